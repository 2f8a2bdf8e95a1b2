// npm run bench -- scale [seconds] [postgres://… to use instead of a throw-away cluster]:
// gateway sessions per second (DM check-ins: md5 auth, DevInfo filed, the queue looked at) against
// one server instance on SQLite, one on PostgreSQL and two on one PostgreSQL database, side by
// side in one run, with the same simulated gateways (in this process) spread over the instances.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { DmClientAgent } from '../src/client/agent.ts';
import { DmHttpClient } from '../src/transport/index.ts';
import { addAccount, installDevInfo, Tree } from '../src/tree/index.ts';
import { startPostgres } from '../test/support/postgres.ts';

const TARGET = new URL('./support/scale-target.ts', import.meta.url);
const GATEWAYS = 40;
const SECONDS = 5;

async function startTarget(db: string, accounts: number): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(TARGET, [db, String(accounts)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the bench target exited with ${code}`)));
  });
  return { url, child };
}

async function stopTarget(t: { child: ChildProcess }): Promise<void> {
  const exited = new Promise((resolve) => t.child.once('exit', resolve));
  t.child.kill('SIGINT');
  await exited;
}

function gatewayTree(g: number, url: string): Tree {
  const tree = new Tree();
  installDevInfo(tree, { DevId: `GW:${String(g).padStart(6, '0')}`, Man: 'Bench', Mod: 'GW-1', DmV: '1.2', Lang: 'en' });
  addAccount(tree, { id: 'bench', serverId: 'bench', addr: url, client: { type: 'DIGEST', name: `gw${g}`, secret: 'pw' } });
  return tree;
}

/** GATEWAYS gateways, gateway g on instance g mod n, each in back-to-back sessions; sessions per second. */
async function load(urls: readonly string[], seconds: number): Promise<number> {
  let sessions = 0;
  let failed = 0;
  let counting = false;
  let stop = false;
  const clients = Array.from({ length: GATEWAYS }, () => new DmHttpClient({ retries: 0 }));
  const agents = clients.map((http, g) => new DmClientAgent({ tree: gatewayTree(g, urls[g % urls.length]!), http, clock: { now: () => Date.now() }, encoding: 'wbxml' }));
  const runs = agents.map(async (a) => {
    while (!stop) {
      const r = await a.session();
      if (r.end !== 'done') failed++;
      else if (counting) sessions++;
    }
  });
  await new Promise((r) => setTimeout(r, 1000)); // warm-up: first challenges, pools filled
  counting = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rate = sessions / ((performance.now() - started) / 1000);
  stop = true;
  await Promise.all(runs);
  for (const c of clients) c.close();
  if (failed > GATEWAYS) throw new Error(`${failed} sessions did not end well`);
  return rate;
}

export async function main(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? SECONDS);
  const cluster = args[1] ? undefined : await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-scale-'));
  let n = 0;
  const pgUrl = async (): Promise<string> => (cluster ? cluster.database() : args[1]!);
  const setups: Record<'sqlite' | 'pg1' | 'pg2', () => Promise<{ url: string; child: ChildProcess }[]>> = {
    sqlite: async () => [await startTarget(join(dir, `server-${++n}.db`), GATEWAYS)],
    pg1: async () => [await startTarget(await pgUrl(), GATEWAYS)],
    pg2: async () => {
      const db = await pgUrl();
      const first = await startTarget(db, GATEWAYS);
      return [first, await startTarget(db, 0)];
    },
  };
  try {
    const rates = { sqlite: [] as number[], pg1: [] as number[], pg2: [] as number[] };
    for (let round = 0; round < 2; round++) {
      for (const key of ['sqlite', 'pg1', 'pg2'] as const) {
        const targets = await setups[key]();
        try {
          rates[key].push(await load(targets.map((t) => t.url), seconds));
        } finally {
          for (const t of targets) await stopTarget(t);
        }
      }
      console.log(`round ${round + 1}: SQLite ×1 ${rates.sqlite[round]!.toFixed(0)}, PostgreSQL ×1 ${rates.pg1[round]!.toFixed(0)}, PostgreSQL ×2 ${rates.pg2[round]!.toFixed(0)} sessions/s`);
    }
    const best = (xs: number[]): number => Math.max(...xs);
    console.log(`\n${GATEWAYS} gateways in back-to-back DM sessions (WBXML, md5), simulated in the bench process; each server instance its own process`);
    console.log(`RESULT pg_vs_sqlite ${(best(rates.pg1) / best(rates.sqlite)).toFixed(3)}`);
    console.log(`RESULT pg_2x_vs_1x ${(best(rates.pg2) / best(rates.pg1)).toFixed(3)}`);
    console.log(`RESULT scale_sqlite_sessions_per_s ${best(rates.sqlite).toFixed(0)}`);
    console.log(`RESULT scale_pg_1x_sessions_per_s ${best(rates.pg1).toFixed(0)}`);
    console.log(`RESULT scale_pg_2x_sessions_per_s ${best(rates.pg2).toFixed(0)}`);
  } finally {
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
