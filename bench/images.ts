// npm run bench -- images: 100 devices behind one gateway install one staged 20 MB image. Measures
// how many copies crossed the WAN (server egress / image size) and the gateway's serving throughput
// next to a bare node:http static file server serving the same file to the same 100 clients.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

import { DmGateway } from '../src/gateway/gateway.ts';
import type { GenericAlert } from '../src/session/server/index.ts';
import { DmServer } from '../src/server/dm-server.ts';
import { SqliteGatewayStore } from '../src/store/sqlite/gateway.ts';
import { SqliteServerStore } from '../src/store/sqlite/server.ts';

const DEVICES = 100;
const MB = 20;

export async function main(args: string[]): Promise<void> {
  const devices = Number(args[0] ?? DEVICES);
  const size = Number(args[1] ?? MB) * 1024 * 1024;
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-images-bench-'));
  const store = new SqliteServerStore(':memory:');
  const waiting: { type: string; resolve: (a: GenericAlert) => void }[] = [];
  const server = new DmServer({
    store, serverId: 'srv', imageDir: join(dir, 'server'),
    events: { alert: (_d, a) => waiting.filter((w) => a.items[0]?.type?.includes(w.type)).forEach((w) => w.resolve(a)) },
  });
  const alertOf = (type: string): Promise<GenericAlert> => new Promise((resolve) => waiting.push({ type, resolve }));
  const url = await server.start();
  server.service.addDevice({ deviceId: 'GW:IMG', name: 'gw', password: 'gw-pw', serverName: 'srv', serverPassword: 'srv-pw', scheme: 'md5' });
  const gstore = new SqliteGatewayStore(join(dir, 'gateway.db'));
  const south = new SqliteServerStore(join(dir, 'south.db'));
  const gateway = new DmGateway({
    deviceId: 'GW:IMG', serverUrl: url, serverId: 'srv', username: 'gw', password: 'gw-pw', serverPassword: 'srv-pw', auth: 'md5', encoding: 'wbxml',
    lanHost: '127.0.0.1', lanPort: 0, lanServerId: 'gwmo-gateway', deviceUser: 'device', devicePassword: 'lan-pw', lanServerPassword: 'lan-srv-pw',
    notifyPort: 0, checkInSeconds: 0, stores: { south, gateway: gstore }, imageDir: join(dir, 'gateway'),
  });
  gstore.setConfig('Fanout/MaxConcurrency', String(devices));
  gstore.setConfig('Fanout/DeviceTimeout', '300');
  await gateway.start();
  await gateway.checkIn();
  const fleet: ChildProcess = fork(new URL('./support/fleet.ts', import.meta.url), [gateway.lanUrl, String(devices)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const statics = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    createReadStream(path).pipe(res);
  });
  let path = '';
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: fleet.stdout! }).on('line', (l) => l.startsWith('ready') && resolve());
      fleet.once('exit', (code) => reject(new Error(`the fleet exited with ${code}`)));
    });
    const image = await server.images!.add(Readable.from([randomBytes(size)]), { name: 'fw', version: '3', contentType: 'application/octet-stream' }, size, Date.now());
    path = join(dir, 'server', image.id);
    console.log(`image ${image.id.slice(0, 12)}… ${(statSync(path).size / 1024 / 1024).toFixed(0)} MB; ${devices} devices registered`);
    const ready = alertOf('imageready');
    await server.gateways.stageImage('GW:IMG', { image: image.id, name: 'fw3' }, 10_000);
    const staged = await ready;
    if (staged.items[0]?.mark !== 'informational') throw new Error(`staging failed: ${String(staged.items[0]?.data)}`);

    gstore.putGroup('all', '');
    gstore.setMembers('all', Array.from({ length: devices }, (_, i) => ({ name: `m${i}`, deviceId: `IMEI:${String(i).padStart(15, '0')}` })));
    const done = alertOf('resultaggregation');
    const served0 = gateway.images.served.bytes;
    const t0 = performance.now();
    await server.gateways.distribute('GW:IMG', { image: 'fw3', groups: ['all'], timeout: 300 }, 10_000);
    const agg = await done;
    const seconds = (performance.now() - t0) / 1000;
    if (!String(agg.items[0]?.data).includes(`<Status code="200" count="${devices}"/>`)) throw new Error(`not every device installed: ${String(agg.items[0]?.data).slice(0, 200)}`);
    const gwRate = (gateway.images.served.bytes - served0) / seconds;
    console.log(`gateway: ${devices} devices installed in ${seconds.toFixed(2)} s (${(gwRate / 1024 / 1024).toFixed(0)} MB/s served)`);

    await new Promise<void>((resolve) => statics.listen(0, '127.0.0.1', resolve));
    const staticUrl = `http://127.0.0.1:${(statics.address() as AddressInfo).port}/fw`;
    const base = await new Promise<{ seconds: number; bytes: number }>((resolve) => {
      fleet.once('message', (m) => resolve(m as { seconds: number; bytes: number }));
      fleet.send({ download: staticUrl, concurrent: devices });
    });
    const staticRate = base.bytes / base.seconds;
    console.log(`bare static server: ${devices} downloads in ${base.seconds.toFixed(2)} s (${(staticRate / 1024 / 1024).toFixed(0)} MB/s)`);
    console.log(`RESULT image_egress_copies ${(server.images!.served.bytes / size).toFixed(2)}`);
    console.log(`RESULT image_serve_vs_static ${(gwRate / staticRate).toFixed(3)}`);
  } finally {
    fleet.kill('SIGINT');
    statics.close();
    await gateway.stop();
    await server.stop();
    for (const s of [gstore, south, store]) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
