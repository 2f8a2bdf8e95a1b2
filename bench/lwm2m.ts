// npm run bench -- lwm2m: 10,000 simulated LwM2M devices (one fleet process, real CoAP over UDP on
// loopback) behind one gateway; one fanout of Read /3/0/0 plus a Write, from the server's Exec to
// the aggregated alert.
import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';

import { encodeFragment } from '../src/protocol/index.ts';
import { RIG_GATEWAY, startRig } from './support/rig.ts';

export async function main(args: string[]): Promise<void> {
  const count = Number(args[0] ?? 10_000);
  const rig = await startRig({ lwm2m: true, config: { 'Fanout/MaxConcurrency': args[1] ?? '1000', DetachTimeout: '3600' } });
  const { server, gateway } = rig;
  let attached = 0;
  let allAttached: () => void = () => {};
  const ready = new Promise<void>((resolve) => (allAttached = resolve));
  gateway.events.on('attached', () => ++attached === count && allAttached());
  const fleet: ChildProcess = fork(
    new URL('./support/lwm2m-fleet.ts', import.meta.url),
    [`coap://${gateway.lwm2mAddress}`, String(count)],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: fleet.stdout! }).on('line', (l) => l.startsWith('ready') && resolve());
      fleet.once('exit', (code) => reject(new Error(`the fleet exited with ${code}`)));
    });
    await ready;
    rig.groupAll(Array.from({ length: count }, (_, i) => `lw${i}`));
    const commands = encodeFragment([
      { kind: 'Get', cmdId: 1, items: [{ target: { locUri: './3/0/0' } }] },
      { kind: 'Replace', cmdId: 2, items: [{ target: { locUri: './3303/0/5750' }, data: 'bench' }] },
    ]);
    const done = rig.alertOf('resultaggregation');
    let last = 0;
    const t0 = performance.now();
    gateway.events.on('progress', (_j: string, n: number, total: number) => {
      if (n - last >= total / 10 || n === total) {
        last = n;
        console.log(`  fanout ${n}/${total} after ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      }
    });
    for (const o of [
      { kind: 'Add' as const, path: './GwMO/Fanout/lw', format: 'node' },
      { kind: 'Add' as const, path: './GwMO/Fanout/lw/Targets/all', value: './GwMO/DevInventory/Groups/all' },
      { kind: 'Add' as const, path: './GwMO/Fanout/lw/Commands', value: commands, format: 'xml' },
      { kind: 'Exec' as const, path: './GwMO/Fanout/lw/Operations/Start' },
    ])
      await server.service.queue(RIG_GATEWAY, o);
    await server.service.notify(RIG_GATEWAY);
    const alert = await done;
    const seconds = (performance.now() - t0) / 1000;
    if (!String(alert.items[0]?.data).includes(`<Status code="200" count="${count}"/>`))
      throw new Error(`not every device answered: ${String(alert.items[0]?.data).slice(0, 300)}`);
    console.log(`${count} LwM2M devices: Exec → aggregated alert in ${seconds.toFixed(2)} s`);
    console.log(`RESULT fanout_lwm2m_${count >= 10_000 ? `${count / 1000}k` : count}_s ${seconds.toFixed(2)}`);
  } finally {
    fleet.kill('SIGINT');
    await rig.close();
  }
}
