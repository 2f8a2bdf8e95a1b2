// The simulated fleet of `npm run bench -- fanout`: COUNT DM devices in one process, one UDP
// Package#0 listener each, one shared HTTP client, all enrolled with the gateway at LAN_URL.
// Prints "ready <count>" when every device has registered; progress on stderr.
import { DmDevice } from '../../src/client/device.ts';
import { download } from '../../src/client/package-download.ts';
import { DmHttpClient } from '../../src/transport/index.ts';

const [lanUrl, countText] = process.argv.slice(2);
const count = Number(countText);
const http = new DmHttpClient({ maxSockets: 64, retries: 3, retryDelay: async () => {} });
const devices: DmDevice[] = [];
for (let i = 0; i < count; i++) {
  devices.push(
    new DmDevice(
      {
        deviceId: `IMEI:${String(i).padStart(15, '0')}`,
        serverUrl: lanUrl!,
        serverId: 'gwmo-gateway',
        username: 'device',
        password: 'lan-pw',
        serverPassword: 'lan-srv-pw',
        auth: 'md5',
        encoding: 'wbxml',
        manufacturer: 'Acme',
        model: 'Fleet-1',
        language: 'en',
        firmware: '1.0',
        notifyHost: '127.0.0.1',
        notifyPort: 0,
        checkInSeconds: 0,
      },
      undefined,
      () => {},
      http,
    ),
  );
}
const BATCH = 64;
for (let i = 0; i < count; i += BATCH) {
  await Promise.all(
    devices.slice(i, i + BATCH).map(async (d) => {
      await d.start();
      const r = await d.session();
      if (r.end !== 'done') throw new Error(`${d.tree.read('./DevInfo/DevId')}: ${r.end} ${r.error ?? ''}`);
    }),
  );
  if ((i / BATCH) % 20 === 0) process.stderr.write(`fleet: ${Math.min(i + BATCH, count)}/${count} registered\n`);
}
console.log(`ready ${count}`);
process.on('SIGINT', () => process.exit(0));
// the bench that forked it was killed: its IPC channel closes, and the devices must not outlive it
process.on('disconnect', () => process.exit(0));
// the images bench asks for a baseline: `n` concurrent downloads of `url` with the devices' code
process.on('message', (m: { download?: string; concurrent?: number } | 'cpu') => {
  if (m === 'cpu') {
    // the bench asks for our CPU time around the fanout
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
    return;
  }
  if (!m.download) return;
  const t0 = performance.now();
  void Promise.all(Array.from({ length: m.concurrent ?? 1 }, () => download(m.download!))).then((r) =>
    process.send?.({ seconds: (performance.now() - t0) / 1000, bytes: r.reduce((n, x) => n + x.bytes, 0) }),
  );
});
