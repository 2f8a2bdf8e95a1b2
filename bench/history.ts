// npm run bench -- history [--scale S] [--seconds N] [--db PATH [--seed-only]]: the session bench's DM pairs (bench/session.ts)
// against a server whose store holds a year of history (bench/support/history-seed.ts: at scale 1,
// 100k devices, 10M operations, 1M sessions) and against an empty one, side by side in alternating
// rounds; then one retention run over the seeded store with the default policy (30 days, 200
// operations and 10,000 alerts per device), timed. With --db the seeded store is kept at PATH (seeded
// there when missing, each run's rounds on a copy of it: scale 1 takes long to seed, and the rounds
// want a quiet machine that the seeding need not have); the retention run is left out then.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DEFAULT_RETENTION, Pruner, storeSteps } from '../src/server/retention.ts';
import { SqliteServerStore } from '../src/store/sqlite/server.ts';
import { DEVICES, type Load, loadDm, startTarget } from './session.ts';
import { countsAt, seedHistory } from './support/history-seed.ts';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a number > 0, got "${args[i + 1]}"`);
  return v;
}

export async function main(args: string[]): Promise<void> {
  const scale = flag(args, '--scale', 0.1);
  const seconds = flag(args, '--seconds', 5);
  const at = args.indexOf('--db');
  const kept = at >= 0 ? args[at + 1] : undefined;
  if (at >= 0 && !kept) throw new Error('--db needs a file path');
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-history-'));
  const seeded = kept ?? join(dir, 'seeded.db');
  const counts = countsAt(scale);
  try {
    if (kept && existsSync(kept)) console.log(`reusing the seeded store ${kept} (--scale is what seeded it)`);
    else {
      const seedMs = await seedHistory(seeded, counts);
      const size = statSync(seeded).size + (statSync(`${seeded}-wal`, { throwIfNoEntry: false })?.size ?? 0);
      console.log(
        `seeded ${counts.devices} devices, ${counts.operations} operations, ${counts.sessions} sessions in ${(seedMs / 1000).toFixed(1)} s (${(size / 2 ** 20).toFixed(0)} MiB)`,
      );
    }
    if (args.includes('--seed-only')) return;
    // the rounds enrol their devices in the store they run on: each run gets a copy of the kept one
    const store = kept ? join(dir, 'seeded.db') : seeded;
    if (kept) for (const suffix of ['', '-wal']) if (existsSync(kept + suffix)) copyFileSync(kept + suffix, store + suffix);
    const targets = {
      empty: await startTarget(['dm', String(DEVICES), '4000']),
      seeded: await startTarget(['dm', String(DEVICES), '4000', store]),
    };
    const loads: Record<'empty' | 'seeded', Load[]> = { empty: [], seeded: [] };
    try {
      // two rounds, as bench/session.ts: each round's devices start with fresh nonces, and a third would meet the DM auth lockout
      for (let round = 0; round < 2; round++) {
        // alternating, the order swapped each round: what else the machine runs falls on both alike
        const order: ('empty' | 'seeded')[] = round % 2 === 0 ? ['empty', 'seeded'] : ['seeded', 'empty'];
        for (const which of order) loads[which].push(await loadDm(targets[which].url, seconds, targets[which].child));
        console.log(
          `round ${round + 1}: empty ${loads.empty[round]!.rate.toFixed(0)} pairs/s (${loads.empty[round]!.cpuPerPair.toFixed(0)} µs CPU per pair), ` +
            `seeded ${loads.seeded[round]!.rate.toFixed(0)} pairs/s (${loads.seeded[round]!.cpuPerPair.toFixed(0)} µs CPU per pair)`,
        );
      }
    } finally {
      const exited = (c: ChildProcess) => new Promise((resolve) => c.once('exit', resolve));
      const done = Promise.all([exited(targets.empty.child), exited(targets.seeded.child)]);
      targets.empty.child.kill('SIGINT');
      targets.seeded.child.kill('SIGINT');
      await done;
    }
    const best = (ls: Load[]): number => Math.max(...ls.map((l) => l.rate));
    const leastCpu = (ls: Load[]): number => Math.min(...ls.map((l) => l.cpuPerPair));

    console.log(`\nscale ${scale}: ${DEVICES} devices in sessions, WBXML, md5, one Get per HTTP pair, SQLite`);
    console.log(`RESULT history_vs_empty ${(best(loads.seeded) / best(loads.empty)).toFixed(3)}`);
    console.log(`RESULT history_cpu_vs_empty ${(leastCpu(loads.seeded) / leastCpu(loads.empty)).toFixed(3)}`);
    console.log(`RESULT history_pairs_per_s ${best(loads.seeded).toFixed(0)}`);
    console.log(`RESULT empty_pairs_per_s ${best(loads.empty).toFixed(0)}`);
    if (kept) return;
    const pruned = new SqliteServerStore(seeded);
    const pruner = new Pruner({ steps: storeSteps(pruned, () => DEFAULT_RETENTION), intervalMs: 0 });
    const started = performance.now();
    const removed = await pruner.runOnce();
    const pruneS = (performance.now() - started) / 1000;
    await pruned.close();
    const total = Object.values(removed).reduce((a, b) => a + b, 0);
    console.log(`retention run: ${JSON.stringify(removed)} in ${pruneS.toFixed(1)} s, ${pruner.statements} statements`);
    console.log(`RESULT history_prune_rows_per_s ${(total / pruneS).toFixed(0)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
