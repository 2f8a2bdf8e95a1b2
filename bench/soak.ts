// npm run bench -- soak [--minutes 15] [--gateways 4] [--lwm2m-gateways 1] [--devices 20]: the long
// soak of test/support/soak.ts with retention set short (history older than 60 s, pruned every
// 15 s) and the trends it shows, each a least-squares fit over the whole run (not two samples):
// - soak_round_slope: fitted fanout round time at the last round over that at the first (goal ≤ 1.1)
// - soak_rss_slope_mb_per_h: each server instance's RSS trend after its warm-up (warmUpEnd: until V8
//   has sized its heap), per hour; the worst instance running at the end (goal ≤ 5);
//   every process (gateways and fleets too) on its own line
// - soak_db_rows_ratio: history rows at the end over their peak in the first half of the run (the
//   peak of the whole run includes the end, so that ratio could never exceed 1; goal ≤ 1.2)
// - soak_wrong_results: fanouts whose results lost or doubled a device (goal 0)
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { type RssSeries, runSoak } from '../test/support/soak.ts';
import { endOverStart, fitLine } from '../test/support/trend.ts';

type Sample = RssSeries['samples'][number];

/** When a process's warm-up ends: V8 sizes its heap to the work (the young generation up to the cap
 * gwmo runs with, src/cli/runtime-flags.ts; the old space to the garbage of the work in flight) and
 * keeps the pages it committed once (it pools them when it shrinks), so the process's memory follows
 * the heap's largest committed size: the warm-up lasts until V8's committed heap first reaches the
 * largest it has in the run, and at least 60 s; never more than half the process's life, so a heap
 * that keeps growing (a leak) still shows over the other half. A process without /metrics (a fleet):
 * a quarter of its life. */
export function warmUpEnd(samples: readonly Sample[]): number {
  const first = samples[0]?.at ?? 0;
  const life = (samples.at(-1)?.at ?? first) - first;
  const sized = samples.filter((x) => x.heapTotal !== undefined);
  if (sized.length === 0) return first + life / 4;
  const peak = Math.max(...sized.map((x) => x.heapTotal!));
  const reached = sized.find((x) => x.heapTotal === peak)!.at;
  return Math.min(first + life / 2, Math.max(first + 60, reached));
}

const heapSizes = (samples: readonly Sample[]): string => {
  const total = samples.flatMap((x) => (x.heapTotal === undefined ? [] : [x.heapTotal]));
  const young = samples.flatMap((x) => (x.newSpace === undefined ? [] : [x.newSpace]));
  return total.length
    ? ` (V8 heap committed up to ${Math.max(...total).toFixed(0)} MB, new space up to ${Math.max(...young).toFixed(0)} MB)`
    : '';
};

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      minutes: { type: 'string', default: '15' },
      gateways: { type: 'string', default: '4' },
      'lwm2m-gateways': { type: 'string', default: '1' },
      devices: { type: 'string', default: '20' },
      keep: { type: 'string', default: '60' },
      // KEY=VALUE for every spawned process, e.g. --env NODE_OPTIONS=--max-old-space-size=64
      env: { type: 'string', multiple: true, default: [] },
      // every sample (per process and the history rows) as JSON, to look at the run again
      samples: { type: 'string' },
    },
  });
  const number = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} ${v}: a number ≥ ${min}`);
    return n;
  };
  const minutes = number('minutes', values.minutes, 0.2);
  const gateways = number('gateways', values.gateways, 1);
  const lwm2m = number('lwm2m-gateways', values['lwm2m-gateways'], 0);
  const devices = number('devices', values.devices, 1);
  const keep = number('keep', values.keep, 1);
  const env: Record<string, string> = {};
  for (const kv of values.env) {
    const at = kv.indexOf('=');
    if (at < 1) throw new Error(`--env ${kv}: KEY=VALUE`);
    env[kv.slice(0, at)] = kv.slice(at + 1);
  }
  const f = await runSoak({
    seconds: minutes * 60,
    gateways,
    lwm2mGateways: lwm2m,
    devices,
    checkIn: 30,
    keepSeconds: keep,
    retentionEvery: 15,
    imageEvery: 20,
    sampleEvery: 5,
    log: (l) => console.log(l),
    env,
  });
  if (values.samples) writeFileSync(values.samples, JSON.stringify({ rss: f.rss, rows: f.rows, rounds: f.rounds }));
  console.log(
    `\n${gateways} DM + ${lwm2m} LwM2M gateways × ${devices} devices, 2 server instances on one PostgreSQL, ${f.seconds.toFixed(0)} s, ${f.rounds.length} rounds; restarted: ${f.restarts.join(', ')}`,
  );
  const rounds = f.rounds;
  const q = (n: number): string =>
    rounds.length ? [...rounds].sort((a, b) => a - b)[Math.floor(n * (rounds.length - 1))]!.toFixed(3) : '-';
  console.log(`round seconds: median ${q(0.5)}, p90 ${q(0.9)}, max ${q(1)}`);
  let worst = 0;
  for (const s of f.rss) {
    const life = s.samples.length ? s.samples.at(-1)!.at - s.samples[0]!.at : 0;
    const warm = warmUpEnd(s.samples);
    const after = s.samples.filter((x) => x.at >= warm);
    const slope = (pick: (x: (typeof after)[number]) => number | undefined): number => {
      const xs = after.filter((x) => pick(x) !== undefined);
      return (
        fitLine(
          xs.map((x) => x.at / 3600),
          xs.map((x) => pick(x)!),
        )?.slope ?? Number.NaN
      );
    };
    const perHour = slope((x) => x.mb);
    // the V8 heap's floor (its smallest sample in each quarter of the life after warm-up: close to
    // the heap after a GC) and the external memory's trend tell garbage and native growth apart
    const quarter = Math.ceil(after.length / 4);
    const floors = [0, 1, 2, 3].map((k) =>
      Math.min(...after.slice(k * quarter, (k + 1) * quarter).flatMap((x) => (x.heap === undefined ? [] : [x.heap]))),
    );
    // an instance replaced by a restart is left out: its life ended inside its own warm-up
    const alive = !f.rss.some((t) => t.label === `${s.label} (restarted)`);
    if (s.server && alive && Number.isFinite(perHour)) worst = Math.max(worst, perHour);
    console.log(
      `rss ${s.label}: ${s.samples[0]?.mb.toFixed(0)} → ${s.samples.at(-1)?.mb.toFixed(0)} MB over ${life.toFixed(0)} s; warm-up ${(warm - (s.samples[0]?.at ?? 0)).toFixed(0)} s${heapSizes(s.samples)}; after warm-up ${perHour.toFixed(1)} MB/h (${after.length} samples); anonymous ${after[0]?.anon.toFixed(0)} → ${after.at(-1)?.anon.toFixed(0)} MB, ${slope((x) => x.anon).toFixed(1)} MB/h` +
        (after.some((x) => x.heap !== undefined)
          ? `; heap used ${slope((x) => x.heap).toFixed(1)} MB/h, floor by quarter ${floors.map((f) => f.toFixed(1)).join(' ')} MB; external ${after[0]?.external?.toFixed(1)} → ${after.findLast((x) => x.external !== undefined)?.external?.toFixed(1)} MB, ${slope((x) => x.external).toFixed(1)} MB/h`
          : ''),
    );
  }
  const end = f.rows.at(-1)?.rows ?? 0;
  const from = f.rows[0]?.at ?? 0;
  const firstHalf = f.rows.filter((r) => r.at <= from + ((f.rows.at(-1)?.at ?? 0) - from) / 2);
  const peak = Math.max(1, ...firstHalf.map((r) => r.rows));
  console.log(`history rows: peak ${Math.max(...f.rows.map((r) => r.rows))}, peak in the first half ${peak}, end ${end}`);
  console.log(
    `stagings: ${f.stagings} stored, ${f.stagingFailures.length} failed; first round's jobs pruned on the gateways: ${f.firstJobsPruned}`,
  );
  for (const w of f.wrong) console.log(`wrong: ${w}`);
  for (const w of f.stagingFailures) console.log(`staging failed: ${w}`);
  console.log(`RESULT soak_fanouts ${f.fanouts}`);
  console.log(`RESULT soak_results ${f.results}`);
  console.log(`RESULT soak_round_slope ${(endOverStart(rounds) ?? Number.NaN).toFixed(3)}`);
  console.log(`RESULT soak_rss_slope_mb_per_h ${worst.toFixed(1)}`);
  console.log(`RESULT soak_db_rows_ratio ${(end / peak).toFixed(3)}`);
  console.log(`RESULT soak_wrong_results ${f.wrong.length}`);
  console.log(`RESULT soak_staging_failures ${f.stagingFailures.length}`);
}
