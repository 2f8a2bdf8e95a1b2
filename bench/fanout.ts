// npm run bench -- fanout: a fanout of one Get to 1,000 and to 10,000 simulated DM devices (one fleet
// process, real HTTP and UDP on loopback) behind one gateway; the time from the server's Exec to
// the aggregated alert at the server, and the gateway's heap per attached device.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { DmGateway } from '../src/gateway/gateway.ts';
import { encodeFragment } from '../src/protocol/index.ts';
import type { GenericAlert } from '../src/session/server/index.ts';
import { DmServer } from '../src/server/dm-server.ts';
import { SqliteGatewayStore } from '../src/store/sqlite/gateway.ts';
import { SqliteServerStore } from '../src/store/sqlite/server.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

async function round(count: number): Promise<{ seconds: number; bytesPerDevice: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-fanout-'));
  const store = new SqliteServerStore(':memory:');
  let onAlert: (a: GenericAlert) => void = () => {};
  const server = new DmServer({ store, serverId: 'srv', events: { alert: (_d, a) => onAlert(a) } });
  const url = await server.start();
  server.service.addDevice({ deviceId: 'GW:BENCH', name: 'gw', password: 'gw-pw', serverName: 'srv', serverPassword: 'srv-pw', scheme: 'md5' });
  const gstore = new SqliteGatewayStore(join(dir, 'gateway.db'));
  const south = new SqliteServerStore(join(dir, 'south.db'));
  const gateway = new DmGateway({
    deviceId: 'GW:BENCH', serverUrl: url, serverId: 'srv', username: 'gw', password: 'gw-pw', serverPassword: 'srv-pw', auth: 'md5', encoding: 'wbxml',
    lanHost: '127.0.0.1', lanPort: 0, lanServerId: 'gwmo-gateway', deviceUser: 'device', devicePassword: 'lan-pw', lanServerPassword: 'lan-srv-pw',
    notifyPort: 0, checkInSeconds: 0, stores: { south, gateway: gstore }, imageDir: join(dir, 'images'),
  });
  gstore.setConfig('Fanout/MaxConcurrency', '256');
  gstore.setConfig('DetachTimeout', '3600');
  await gateway.start();
  await gateway.checkIn();
  const before = heap();
  const fleet: ChildProcess = fork(new URL('./support/fleet.ts', import.meta.url), [gateway.lanUrl, String(count)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: fleet.stdout! }).on('line', (l) => l.startsWith('ready') && resolve());
      fleet.once('exit', (code) => reject(new Error(`the fleet exited with ${code}`)));
    });
    const bytesPerDevice = (heap() - before) / count;
    // the target group is set up directly: 10,000 member Adds over DM are not what is measured
    gstore.putGroup('all', '');
    gstore.setMembers('all', Array.from({ length: count }, (_, i) => ({ name: `m${i}`, deviceId: `IMEI:${String(i).padStart(15, '0')}` })));
    const commands = encodeFragment([{ kind: 'Get', cmdId: 1, items: [{ target: { locUri: './DevInfo/Mod' } }] }]);
    const done = new Promise<GenericAlert>((resolve) => (onAlert = (a) => a.items[0]?.type?.includes('resultaggregation') && resolve(a)));
    const t0 = performance.now();
    for (const o of [
      { kind: 'Add' as const, path: './GwMO/Fanout/bench', format: 'node' },
      { kind: 'Add' as const, path: './GwMO/Fanout/bench/Targets/all', value: './GwMO/DevInventory/Groups/all' },
      { kind: 'Add' as const, path: './GwMO/Fanout/bench/Commands', value: commands, format: 'xml' },
      { kind: 'Exec' as const, path: './GwMO/Fanout/bench/Operations/Start' },
    ]) server.service.queue('GW:BENCH', o);
    let last = 0;
    gateway.events.on('progress', (_job: string, n: number, total: number) => {
      if (n - last >= total / 10 || n === total) {
        last = n;
        console.log(`  fanout ${n}/${total} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    });
    await server.service.notify('GW:BENCH');
    const alert = await done;
    const seconds = (performance.now() - t0) / 1000;
    const ok = new RegExp(`<Status code="200" count="${count}"/>`).test(String(alert.items[0]!.data));
    if (!ok) throw new Error(`not every device succeeded: ${String(alert.items[0]!.data).slice(0, 300)}`);
    return { seconds, bytesPerDevice };
  } finally {
    fleet.kill('SIGINT');
    await gateway.stop();
    await server.stop();
    for (const s of [gstore, south, store]) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const sizes = args.length > 0 ? args.map(Number) : [1000, 10_000];
  const out: Record<number, { seconds: number; bytesPerDevice: number }> = {};
  for (const n of sizes) {
    console.log(`${n} devices: registering the fleet…`);
    out[n] = await round(n);
    console.log(`${n} devices: Exec → aggregated alert in ${out[n]!.seconds.toFixed(2)} s; gateway heap ${out[n]!.bytesPerDevice.toFixed(0)} B per attached device`);
  }
  if (out[1000]) console.log(`RESULT fanout_dm_1k_s ${out[1000].seconds.toFixed(2)}`);
  if (out[10_000]) console.log(`RESULT fanout_dm_10k_s ${out[10_000].seconds.toFixed(2)}`);
  const largest = Math.max(...sizes);
  console.log(`RESULT gateway_bytes_per_device ${out[largest]!.bytesPerDevice.toFixed(0)}`);
}
