// npm run bench -- fanout: a fanout of one Get to 1,000 and to 10,000 simulated DM devices (one fleet
// process, real HTTP and UDP on loopback) behind one gateway; the time from the server's Exec to
// the aggregated alert at the server, and the gateway's heap per attached device.
import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { encodeFragment } from '../src/protocol/index.ts';
import { RIG_GATEWAY, startRig } from './support/rig.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

async function round(count: number): Promise<{ seconds: number; bytesPerDevice: number; cpuPerDevice: number; fleetPerDevice: number }> {
  const rig = await startRig({ config: { 'Fanout/MaxConcurrency': '256', DetachTimeout: '3600' } });
  const { server, gateway } = rig;
  const before = heap();
  const fleet: ChildProcess = fork(new URL('./support/fleet.ts', import.meta.url), [gateway.lanUrl, String(count)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: fleet.stdout! }).on('line', (l) => l.startsWith('ready') && resolve());
      fleet.once('exit', (code) => reject(new Error(`the fleet exited with ${code}`)));
    });
    const bytesPerDevice = (heap() - before) / count;
    // the target group is set up directly: 10,000 member Adds over DM are not what is measured
    rig.groupAll(Array.from({ length: count }, (_, i) => `IMEI:${String(i).padStart(15, '0')}`));
    const commands = encodeFragment([{ kind: 'Get', cmdId: 1, items: [{ target: { locUri: './DevInfo/Mod' } }] }]);
    const done = rig.alertOf('resultaggregation');
    const fleetCpu = (): Promise<number> =>
      new Promise((resolve) => {
        fleet.once('message', (m: { cpu: number }) => resolve(m.cpu));
        fleet.send('cpu');
      });
    const fleet0 = await fleetCpu();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (const o of [
      { kind: 'Add' as const, path: './GwMO/Fanout/bench', format: 'node' },
      { kind: 'Add' as const, path: './GwMO/Fanout/bench/Targets/all', value: './GwMO/DevInventory/Groups/all' },
      { kind: 'Add' as const, path: './GwMO/Fanout/bench/Commands', value: commands, format: 'xml' },
      { kind: 'Exec' as const, path: './GwMO/Fanout/bench/Operations/Start' },
    ])
      await server.service.queue(RIG_GATEWAY, o);
    let last = 0;
    gateway.events.on('progress', (_job: string, n: number, total: number) => {
      if (n - last >= total / 10 || n === total) {
        last = n;
        console.log(`  fanout ${n}/${total} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    });
    await server.service.notify(RIG_GATEWAY);
    const alert = await done;
    const seconds = (performance.now() - t0) / 1000;
    // the gateway and the server (this process) per device, whatever else the machine runs
    const cpu = process.cpuUsage(cpu0);
    const cpuPerDevice = (cpu.user + cpu.system) / count;
    const fleetPerDevice = ((await fleetCpu()) - fleet0) / count;
    const ok = new RegExp(`<Status code="200" count="${count}"/>`).test(String(alert.items[0]!.data));
    if (!ok) throw new Error(`not every device succeeded: ${String(alert.items[0]!.data).slice(0, 300)}`);
    return { seconds, bytesPerDevice, cpuPerDevice, fleetPerDevice };
  } finally {
    fleet.kill('SIGINT');
    await rig.close();
  }
}

export async function main(args: string[]): Promise<void> {
  const sizes = args.length > 0 ? args.map(Number) : [1000, 10_000];
  const out: Record<number, { seconds: number; bytesPerDevice: number; cpuPerDevice: number; fleetPerDevice: number }> = {};
  for (const n of sizes) {
    console.log(`${n} devices: registering the fleet…`);
    out[n] = await round(n);
    console.log(
      `${n} devices: Exec → aggregated alert in ${out[n]!.seconds.toFixed(2)} s; gateway + server CPU ${out[n]!.cpuPerDevice.toFixed(0)} µs per device, fleet (the devices) ${out[n]!.fleetPerDevice.toFixed(0)} µs; ` +
        `gateway heap ${out[n]!.bytesPerDevice.toFixed(0)} B per attached device`,
    );
  }
  if (out[1000]) console.log(`RESULT fanout_dm_1k_s ${out[1000].seconds.toFixed(2)}`);
  if (out[10_000]) console.log(`RESULT fanout_dm_10k_s ${out[10_000].seconds.toFixed(2)}`);
  const largest = Math.max(...sizes);
  console.log(`RESULT fanout_cpu_us_per_device ${out[largest]!.cpuPerDevice.toFixed(0)}`);
  console.log(`RESULT gateway_bytes_per_device ${out[largest]!.bytesPerDevice.toFixed(0)}`);
}
