// npm run bench -- lwm2m [--devices 10000] [--concurrency 1000] [--notify-seconds 30] [--large 100000]
// Simulated LwM2M devices (fleet processes, real CoAP over UDP on loopback) behind one gateway, in
// one run: the fanout of Read /3/0/0 plus a Write (server's Exec → aggregated alert); the same
// requests as a bare CoAP loop without the gateway; every device notifying once a second through an
// observation, counted and timed at the server; the fanout again with --large devices.
import { parseArgs } from 'node:util';

import { encodeFragment } from '../src/protocol/index.ts';
import { observationOperations } from '../src/server/observations.ts';
import type { AlertRow } from '../src/store/server.ts';
import { bareLoop } from './support/bare-coap.ts';
import { RIG_GATEWAY, startRig } from './support/rig.ts';
import { changeValues, type Shard, startShards, stopShards } from './support/lwm2m-shards.ts';

type Rig = Awaited<ReturnType<typeof startRig>>;

/** `timeoutMs` at most for `done()` to hold, checked whenever `wake` is called */
export function until(done: () => boolean, timeoutMs: number, what: string): { wake(): void; promise: Promise<void> } {
  let wake = (): void => {};
  const promise = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not done after ${timeoutMs} ms`)), timeoutMs);
    wake = () => {
      if (!done()) return;
      clearTimeout(timer);
      resolve();
    };
    wake();
  });
  return { wake: () => wake(), promise };
}

/** Seconds from the server queuing the fanout to the aggregated alert; every device must answer 200. */
export async function fanout(rig: Rig, name: string, count: number): Promise<number> {
  const { server, gateway } = rig;
  const commands = encodeFragment([
    { kind: 'Get', cmdId: 1, items: [{ target: { locUri: './3/0/0' } }] },
    { kind: 'Replace', cmdId: 2, items: [{ target: { locUri: './3303/0/5750' }, data: 'bench' }] },
  ]);
  const done = rig.alertOf('resultaggregation');
  let last = 0;
  const t0 = performance.now();
  const progress = (_j: string, n: number, total: number): void => {
    if (n - last >= total / 10 || n === total) {
      last = n;
      console.log(`  fanout ${n}/${total} after ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    }
  };
  gateway.events.on('progress', progress);
  try {
    for (const o of [
      { kind: 'Add' as const, path: `./GwMO/Fanout/${name}`, format: 'node' },
      { kind: 'Add' as const, path: `./GwMO/Fanout/${name}/Targets/all`, value: './GwMO/DevInventory/Groups/all' },
      { kind: 'Add' as const, path: `./GwMO/Fanout/${name}/Commands`, value: commands, format: 'xml' },
      { kind: 'Exec' as const, path: `./GwMO/Fanout/${name}/Operations/Start` },
    ])
      await server.service.queue(RIG_GATEWAY, o);
    await server.service.notify(RIG_GATEWAY);
    const alert = await done;
    const seconds = (performance.now() - t0) / 1000;
    if (!String(alert.items[0]?.data).includes(`<Status code="200" count="${count}"/>`)) {
      // what each failed device's commands said (the aggregate names devices, not reasons)
      const failed = rig.gstore.listResults(name).filter((r) => r.status !== 200);
      const reasons = new Map<string, number>();
      for (const r of failed)
        for (const c of r.commands.filter((c) => c.status !== 200)) {
          const why = `${c.status} ${String(c.data ?? '').replace(/lw\d+/g, 'lw…')}`;
          reasons.set(why, (reasons.get(why) ?? 0) + 1);
        }
      throw new Error(`${failed.length} of ${count} devices failed: ${[...reasons].map(([w, n]) => `${n} × ${w}`).join('; ')}`);
    }
    console.log(`${count} LwM2M devices: Exec → aggregated alert in ${seconds.toFixed(2)} s`);
    return seconds;
  } finally {
    gateway.events.off('progress', progress);
  }
}

/** The notify alerts' /3303/0/5700 values as the server stored them: the bench fleet's values are send times (ms). */
class NotifyCounter {
  since = Number.POSITIVE_INFINITY;
  readonly started = new Set<string>();
  readonly delivered = new Set<string>();
  readonly latencies: number[] = [];
  wake = (): void => {};

  /** records of the round the server stored (duplicates included), and the alerts they came in */
  records = 0;
  alerts = 0;

  stored(row: AlertRow): void {
    const at = Date.now();
    let counted = false;
    for (const item of row.items) {
      if (item.type !== 'org.gwmo.lwm2m.notify') continue;
      const source = String(item.source);
      for (const r of JSON.parse(String(item.data)) as { n?: string; v?: number }[]) {
        if (r.n !== '/3303/0/5700' || typeof r.v !== 'number') continue;
        if (r.v < this.since) {
          this.started.add(source); // the value when the observation started
          continue;
        }
        this.records++;
        counted = true;
        if (!this.delivered.has(`${source} ${r.v}`)) {
          this.delivered.add(`${source} ${r.v}`);
          this.latencies.push(at - r.v);
        }
      }
    }
    if (counted) this.alerts++;
    this.wake();
  }
}

async function notifyRound(rig: Rig, shards: readonly Shard[], count: number, seconds: number, counter: NotifyCounter) {
  rig.groupAll(
    Array.from({ length: count }, (_, i) => `lw${i}`),
    'observed',
  );
  const observing = until(() => counter.started.size === count, 60_000 + count * 10, 'observations started');
  observing.promise.catch(() =>
    console.log(
      `observations started on ${counter.started.size} of ${count} (gateway: ${rig.gateway.observations?.active('bench')} active)`,
    ),
  );
  counter.wake = observing.wake;
  for (const o of observationOperations({ name: 'bench', path: './3303/0/5700', groups: ['observed'] }))
    await rig.server.service.queue(RIG_GATEWAY, o);
  await rig.server.service.notify(RIG_GATEWAY);
  await observing.promise;
  console.log(`observing /3303/0/5700 on ${count} devices; each changes it once a second for ${seconds} s`);
  counter.since = Date.now();
  const gw = rig.gateway;
  const stages = () => ({
    ...gw.alertBatch.counters,
    received: gw.observations?.received ?? 0,
    rateDropped: gw.observations?.dropped ?? 0,
  });
  const before = stages();
  const changed = await changeValues(shards, seconds);
  // what is still on its way has 10 s to arrive; what has not by then counts as lost
  const drained = until(() => counter.delivered.size >= changed, 10_000, 'notifications');
  counter.wake = drained.wake;
  await drained.promise.catch(() => undefined);
  // where notifications went, stage by stage (within this run: the machine's load varies between runs)
  const after = stages();
  const d = (k: keyof typeof after): number => after[k] - before[k];
  console.log(
    `stages: devices changed ${changed} → gateway received ${d('received')} (over device rate ${d('rateDropped')}) → batched ${d('queued')} (batch full ${d('dropped')}, still waiting ${after.waiting}) → ${d('alerts')} alerts north → server stored ${counter.records} records in ${counter.alerts} alerts → counted ${counter.delivered.size} distinct`,
  );
  const sorted = [...counter.latencies].sort((a, b) => a - b);
  const p = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  console.log(
    `notifications: ${counter.delivered.size} of ${changed} reached the server; latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${sorted.at(-1)} ms`,
  );
  return { ratio: counter.delivered.size / changed, p99: p(0.99) };
}

const label = (n: number): string => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

export async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      devices: { type: 'string' },
      concurrency: { type: 'string' },
      'notify-seconds': { type: 'string', default: '30' },
      large: { type: 'string', default: '100000' },
    },
  });
  const count = Number(values.devices ?? positionals[0] ?? 10_000);
  const concurrency = Number(values.concurrency ?? positionals[1] ?? 1000);
  const notifySeconds = Number(values['notify-seconds']);
  const large = Number(values.large);
  for (const [k, v] of Object.entries({ count, concurrency, notifySeconds, large }))
    if (!Number.isInteger(v) || v < 0) throw new Error(`${k} must be a whole number, not ${v}`);
  const counter = new NotifyCounter();
  const rig = await startRig({
    lwm2m: true,
    config: { 'Fanout/MaxConcurrency': String(concurrency), DetachTimeout: '3600' },
    alertStored: (row) => counter.stored(row),
  });
  const server = `coap://${rig.gateway.lwm2mAddress}`;
  let attached = 0;
  rig.gateway.events.on('attached', () => ++attached);
  const shards: Shard[] = [];
  try {
    const registered = until(() => attached >= count, 60_000 + count * 10, 'registrations');
    rig.gateway.events.on('attached', registered.wake);
    shards.push(...(await startShards(server, 0, count)));
    await registered.promise;
    rig.gateway.events.off('attached', registered.wake);
    rig.groupAll(Array.from({ length: count }, (_, i) => `lw${i}`));
    const seconds = await fanout(rig, 'lw', count);
    const bare = await bareLoop(
      shards.flatMap((s) => s.addresses),
      concurrency,
    );
    console.log(`${count} devices, bare CoAP loop (Read + Write, concurrency ${concurrency}): ${bare.toFixed(2)} s`);
    const notify = notifySeconds > 0 ? await notifyRound(rig, shards, count, notifySeconds, counter) : undefined;
    let largeSeconds: number | undefined;
    if (large > count) {
      const more = until(() => attached >= large, 60_000 + large * 10, 'registrations');
      rig.gateway.events.on('attached', more.wake);
      shards.push(...(await startShards(server, count, large - count)));
      await more.promise;
      rig.groupAll(Array.from({ length: large }, (_, i) => `lw${i}`));
      largeSeconds = await fanout(rig, 'lwlarge', large);
    }
    console.log(`RESULT fanout_lwm2m_${label(count)}_s ${seconds.toFixed(2)}`);
    console.log(`RESULT fanout_lwm2m_vs_bare_coap ${(bare / seconds).toFixed(3)}`);
    if (notify) {
      console.log(`RESULT lwm2m_notify_delivered_ratio ${notify.ratio.toFixed(4)}`);
      console.log(`RESULT lwm2m_notify_p99_ms ${notify.p99}`);
    }
    if (largeSeconds !== undefined)
      console.log(`RESULT lwm2m_${label(large)}_vs_${label(count)}_per_device ${(largeSeconds / large / (seconds / count)).toFixed(3)}`);
  } finally {
    stopShards(shards);
    await rig.close();
  }
}
