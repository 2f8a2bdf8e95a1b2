// npm run bench -- scale [rounds] [postgres://… to use instead of a throw-away cluster]:
// gateway sessions per second (DM check-ins: md5 auth, DevInfo filed, the queue looked at) against
// one server instance on SQLite, one on PostgreSQL and two on one PostgreSQL database, side by
// side in one run, with the same simulated gateways (in this process) spread over the instances;
// and two more instances behind Debian's HAProxy (round-robin, one public URL: docs/scale.md's
// configuration) against the two addressed directly, with check-ins and with two-message sessions
// (whose second message lands on the other instance half the time and is forwarded to the owner).
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { DmClientAgent } from '../src/client/agent.ts';
import { DmHttpClient } from '../src/transport/index.ts';
import { addAccount, installDevInfo, Tree } from '../src/tree/index.ts';
import { type Haproxy, haproxyMissing, startHaproxy } from '../test/support/haproxy.ts';
import { freePort } from '../test/support/ports.ts';
import { startPostgres } from '../test/support/postgres.ts';

const TARGET = new URL('./support/scale-target.ts', import.meta.url);
const GATEWAYS = 40;
/** connections to PostgreSQL (--db-pool's default) */
const POOL = 10;
const ROUNDS = 8;
/** one contender's measuring window in a round; the contenders take turns, round after round */
const WINDOW_MS = 2_000;
/** at a window's start, not counted: the gateways' sessions ramp up */
const SETTLE_MS = 300;
/**
 * once per instance, before the rounds: first challenges, pools filled, and V8 done optimising the
 * fresh process's hot code. Counted in sessions, not seconds: each of two instances sees half the
 * sessions, so after the same 5 s they measured 0.8 of one while still compiling, and 0.95 after
 * the same number of sessions each (before the store batched across messages).
 */
const WARM_UP_SESSIONS = 20_000;
/** gateways from here on have a Get in every session (bench/support/scale-target.ts): two messages each */
const TWO_MESSAGE_BASE = 100_000;
/** lb: through HAProxy; pg2m, lbm: two-message sessions */
type Key = 'sqlite' | 'pg1' | 'pg2' | 'lb' | 'pg2m' | 'lbm';
const NAMES: Record<Key, string> = {
  sqlite: 'SQLite ×1',
  pg1: 'PostgreSQL ×1',
  pg2: 'PostgreSQL ×2',
  lb: 'HAProxy ×2',
  pg2m: 'PostgreSQL ×2 (2 msgs)',
  lbm: 'HAProxy ×2 (2 msgs)',
};

async function startTarget(db: string, accounts: number, pool: number, publicUrl?: string): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(TARGET, [db, String(accounts), String(pool), ...(publicUrl ? [publicUrl] : [])], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
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

function gatewayTree(n: number, url: string): Tree {
  const tree = new Tree();
  installDevInfo(tree, { DevId: `GW:${String(n).padStart(6, '0')}`, Man: 'Bench', Mod: 'GW-1', DmV: '1.2', Lang: 'en' });
  addAccount(tree, { id: 'bench', serverId: 'bench', addr: url, client: { type: 'DIGEST', name: `gw${n}`, secret: 'pw' } });
  return tree;
}

/** GATEWAYS gateways of one contender, gateway g on instance g mod n, each in back-to-back sessions while running */
class Fleet {
  private readonly clients = Array.from({ length: GATEWAYS }, () => new DmHttpClient({ retries: 0 }));
  private readonly agents: DmClientAgent[];
  readonly instances: number;
  failed = 0;

  /** `base`: the first gateway's number (TWO_MESSAGE_BASE: two-message sessions) */
  constructor(urls: readonly string[], base = 0) {
    this.instances = urls.length;
    this.agents = this.clients.map(
      (http, g) =>
        new DmClientAgent({
          tree: gatewayTree(base + g, urls[g % urls.length]!),
          http,
          clock: { now: () => Date.now() },
          encoding: 'wbxml',
        }),
    );
  }

  /** sessions per second over a window of time or of sessions, after SETTLE_MS not counted */
  async run(window: { ms: number } | { sessions: number }): Promise<number> {
    const until = 'sessions' in window ? window.sessions : Infinity;
    let sessions = 0;
    let counting = false;
    let stop = false;
    let reached: () => void = () => {};
    const enough = new Promise<void>((r) => (reached = r));
    const runs = this.agents.map(async (a) => {
      while (!stop) {
        const r = await a.session();
        if (r.end !== 'done') this.failed++;
        else if (counting && ++sessions >= until) reached();
      }
    });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    counting = true;
    const started = performance.now();
    await ('ms' in window ? new Promise((r) => setTimeout(r, window.ms)) : enough);
    const rate = sessions / ((performance.now() - started) / 1000);
    stop = true;
    await Promise.all(runs);
    if (this.failed > GATEWAYS) throw new Error(`${this.failed} sessions did not end well`);
    return rate;
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

/** CPU time (user + system) a process has used, in ms, from /proc (clock ticks of 10 ms) */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function main(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? ROUNDS);
  const cluster = args[1] ? undefined : await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-scale-'));
  const pgUrl = async (): Promise<string> => (cluster ? cluster.database() : args[1]!);
  const targets: { url: string; child: ChildProcess }[] = [];
  const fleets = new Map<Key, Fleet>();
  /** the processes serving each contender, whose CPU time per session is told (load on the machine does not change it much) */
  const pids = new Map<Key, number[]>();
  const pidOf = (url: string): number => targets.find((t) => t.url === url)!.child.pid!;
  const noHaproxy = haproxyMissing();
  let lb: Haproxy | undefined;
  try {
    // every instance runs from the start (an idle instance costs no CPU); one contender is loaded at a time
    const start = async (db: string, accounts: number, pool = POOL, publicUrl?: string): Promise<string> => {
      const t = await startTarget(db, accounts, pool, publicUrl);
      targets.push(t);
      return t.url;
    };
    const lone = await start(join(dir, 'server.db'), GATEWAYS);
    fleets.set('sqlite', new Fleet([lone]));
    pids.set('sqlite', [pidOf(lone)]);
    const pgLone = await start(await pgUrl(), GATEWAYS);
    fleets.set('pg1', new Fleet([pgLone]));
    pids.set('pg1', [pidOf(pgLone)]);
    const shared = await pgUrl();
    // the same connections to PostgreSQL in all, split between the instances, as an operator would:
    // what is compared is two instances' coordination, not twice the backends on PostgreSQL's cores
    const direct = [await start(shared, GATEWAYS, POOL / 2), await start(shared, 0, POOL / 2)];
    fleets.set('pg2', new Fleet(direct));
    fleets.set('pg2m', new Fleet(direct, TWO_MESSAGE_BASE));
    pids.set('pg2', direct.map(pidOf));
    pids.set('pg2m', direct.map(pidOf));
    if (noHaproxy) console.log(`${noHaproxy}: no lb_vs_direct`);
    else {
      // the same two instances' configuration on a database of their own, with the balancer's URL as their public URL
      const port = await freePort();
      const behind = await pgUrl();
      const pair = [
        await start(behind, GATEWAYS, POOL / 2, `http://127.0.0.1:${port}/dm`),
        await start(behind, 0, POOL / 2, `http://127.0.0.1:${port}/dm`),
      ];
      lb = await startHaproxy(
        dir,
        port,
        pair.map((u) => Number(new URL(u).port)),
      );
      // the balancer's URL once per instance behind it: the warm-up gives each as many sessions as pg2's
      const front = [`${lb.url}/dm`, `${lb.url}/dm`];
      fleets.set('lb', new Fleet(front));
      fleets.set('lbm', new Fleet(front, TWO_MESSAGE_BASE));
      // the instances and HAProxy
      pids.set('lb', [...pair.map(pidOf), lb.child.pid!]);
      pids.set('lbm', [...pair.map(pidOf), lb.child.pid!]);
    }
    for (const fleet of fleets.values()) await fleet.run({ sessions: WARM_UP_SESSIONS * fleet.instances });
    // drift on a shared machine (its speed wanders by a third within minutes) hits neighbouring
    // windows alike: ratios are taken within a round, then the median over rounds
    const rates: Record<Key, number[]> = { sqlite: [], pg1: [], pg2: [], lb: [], pg2m: [], lbm: [] };
    /** µs of CPU per session in the serving processes (instances, and HAProxy for lb) */
    const cpu: Record<Key, number[]> = { sqlite: [], pg1: [], pg2: [], lb: [], pg2m: [], lbm: [] };
    const keys = [...fleets.keys()];
    for (let round = 0; round < rounds; round++) {
      // the order reversed every other round: what one contender leaves behind (PostgreSQL's
      // background writer and autovacuum, a collection in the bench) falls on each neighbour alike
      const order = round % 2 ? [...keys].reverse() : keys;
      for (const key of order) {
        const used = (): number => pids.get(key)!.reduce((n, pid) => n + cpuMs(pid), 0);
        const before = used();
        const t0 = performance.now();
        const rate = await fleets.get(key)!.run({ ms: WINDOW_MS });
        // the whole run (settling included) over the sessions it made, at the measured rate
        cpu[key].push(((used() - before) * 1000) / (rate * ((performance.now() - t0) / 1000)));
        rates[key].push(rate);
      }
      console.log(`round ${round + 1}: ${keys.map((k) => `${NAMES[k]} ${rates[k][round]!.toFixed(0)}`).join(', ')} sessions/s`);
    }
    const ratio = (a: Key, b: Key): number => median(rates[a].map((x, i) => x / rates[b][i]!));
    console.log(
      `\n${GATEWAYS} gateways in back-to-back DM sessions (WBXML, md5), simulated in the bench process; each server instance its own process`,
    );
    console.log(`RESULT pg_vs_sqlite ${ratio('pg1', 'sqlite').toFixed(3)}`);
    console.log(`RESULT pg_2x_vs_1x ${ratio('pg2', 'pg1').toFixed(3)}`);
    console.log(`RESULT scale_sqlite_sessions_per_s ${median(rates.sqlite).toFixed(0)}`);
    console.log(`RESULT scale_pg_1x_sessions_per_s ${median(rates.pg1).toFixed(0)}`);
    console.log(`RESULT scale_pg_2x_sessions_per_s ${median(rates.pg2).toFixed(0)}`);
    if (fleets.has('lb')) {
      console.log(`RESULT lb_vs_direct ${ratio('lb', 'pg2').toFixed(3)}`);
      console.log(`RESULT lb_vs_direct_2msg ${ratio('lbm', 'pg2m').toFixed(3)}`);
      console.log(`RESULT scale_lb_sessions_per_s ${median(rates.lb).toFixed(0)}`);
      console.log(`RESULT scale_pg_2x_2msg_sessions_per_s ${median(rates.pg2m).toFixed(0)}`);
      console.log(`RESULT scale_lb_2msg_sessions_per_s ${median(rates.lbm).toFixed(0)}`);
      for (const k of ['pg2', 'lb', 'pg2m', 'lbm'] as const)
        console.log(`RESULT scale_${k}_cpu_us_per_session ${median(cpu[k]).toFixed(0)}`);
    }
  } finally {
    for (const f of fleets.values()) f.close();
    await lb?.stop();
    for (const t of targets) await stopTarget(t);
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
