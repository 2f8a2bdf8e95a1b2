// npm run bench -- session: DM request/response pairs per second on the server over loopback HTTP
// keep-alive with many concurrent simulated devices, next to a bare node:http echo server (the
// ceiling of this machine's loopback HTTP) driven by the same client code; and the server's heap
// per registered idle device.
import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { DmClientAgent } from '../src/client/agent.ts';
import { DmServer } from '../src/server/dm-server.ts';
import { SqliteServerStore } from '../src/store/sqlite/server.ts';
import { DmHttpClient } from '../src/transport/index.ts';
import { addAccount, installDevInfo, Tree } from '../src/tree/index.ts';

const TARGET = new URL('./support/session-target.ts', import.meta.url);
export const DEVICES = 50;
const SECONDS = 5;

export async function startTarget(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(TARGET, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the bench target exited with ${code}`)));
  });
  return { url, child };
}

function deviceTree(d: number, url: string): Tree {
  const tree = new Tree();
  installDevInfo(tree, { DevId: `IMEI:${String(d).padStart(15, '0')}`, Man: 'Bench', Mod: 'B-1', DmV: '1.2', Lang: 'en' });
  addAccount(tree, { id: 'bench', serverId: 'bench', addr: url, client: { type: 'DIGEST', name: `dev${d}`, secret: 'pw' } });
  return tree;
}

/** CPU time (µs, user + system) the target process has used so far. */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m: { cpu: number }) => resolve(m.cpu));
    child.send('cpu');
  });
}

export interface Load {
  rate: number;
  cpuPerPair: number;
}

/** DEVICES devices in sessions with the gwmo server, counting HTTP pairs for `seconds`. */
export async function loadDm(url: string, seconds: number, target: ChildProcess): Promise<Load> {
  let pairs = 0;
  let counting = false;
  let stop = false;
  // one HTTP client (one keep-alive connection) per device, as real devices have
  const clients = Array.from({ length: DEVICES }, () => {
    const http = new DmHttpClient({ retries: 0 });
    const realPost = http.post.bind(http);
    http.post = async (u, m) => {
      if (stop) throw new Error('time is up');
      const r = await realPost(u, m);
      if (counting) pairs++;
      return r;
    };
    return http;
  });
  const agents = clients.map(
    (http, d) => new DmClientAgent({ tree: deviceTree(d, url), http, clock: { now: () => Date.now() }, encoding: 'wbxml' }),
  );
  const runs = agents.map(async (a) => {
    while (!stop) await a.session();
  });
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  counting = true;
  const cpu0 = await cpuOf(target);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rate = pairs / ((performance.now() - started) / 1000);
  const cpuPerPair = ((await cpuOf(target)) - cpu0) / pairs;
  stop = true;
  await Promise.all(runs);
  for (const c of clients) c.close();
  return { rate, cpuPerPair };
}

/** The same client posting a DM-sized body to the echo server, same concurrency. */
async function loadEcho(url: string, seconds: number, target: ChildProcess): Promise<Load> {
  const body = new Uint8Array(420).fill(0x41);
  let pairs = 0;
  let counting = false;
  let stop = false;
  const clients = Array.from({ length: DEVICES }, () => new DmHttpClient({ retries: 0 }));
  const runs = clients.map(async (http) => {
    while (!stop) {
      await http.post(url, { body, encoding: 'wbxml' });
      if (counting) pairs++;
    }
  });
  await new Promise((r) => setTimeout(r, 1000));
  counting = true;
  const cpu0 = await cpuOf(target);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rate = pairs / ((performance.now() - started) / 1000);
  const cpuPerPair = ((await cpuOf(target)) - cpu0) / pairs;
  stop = true;
  await Promise.all(runs);
  for (const c of clients) c.close();
  return { rate, cpuPerPair };
}

function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Heap growth of an in-process server per device that registered and did one session. */
async function bytesPerIdleDevice(count: number): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const store = new SqliteServerStore(':memory:');
  const server = new DmServer({ store, serverId: 'bench' });
  const url = await server.start();
  const http = new DmHttpClient({ retries: 0 });
  const before = heapAfterGc(gc);
  for (let start = 0; start < count; start += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - start) }, async (_, i) => {
        const d = start + i;
        await server.service.addDevice({ deviceId: `IMEI:${String(d).padStart(15, '0')}`, name: `dev${d}`, password: 'pw', scheme: 'md5' });
        const report = await new DmClientAgent({
          tree: deviceTree(d, url),
          http,
          clock: { now: () => Date.now() },
          encoding: 'wbxml',
        }).session();
        if (report.end !== 'done') throw new Error(`device ${d}: ${report.end} ${report.error ?? ''}`);
      }),
    );
  }
  const after = heapAfterGc(gc);
  http.close();
  await server.stop();
  await store.close();
  return Math.max(0, (after - before) / count);
}

export async function main(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? SECONDS);
  const dm = await startTarget(['dm', String(DEVICES), String(4000)]);
  const echo = await startTarget(['echo']);
  try {
    const loads = { dm: [] as Load[], echo: [] as Load[] };
    for (let round = 0; round < 2; round++) {
      const e = await loadEcho(echo.url, seconds, echo.child);
      const d = await loadDm(dm.url, seconds, dm.child);
      loads.echo.push(e);
      loads.dm.push(d);
      console.log(
        `round ${round + 1}: gwmo server ${d.rate.toFixed(0)} pairs/s (${d.cpuPerPair.toFixed(0)} µs CPU per pair), ` +
          `bare HTTP echo ${e.rate.toFixed(0)} pairs/s (${e.cpuPerPair.toFixed(0)} µs CPU per pair)`,
      );
    }
    const rates = { dm: loads.dm.map((l) => l.rate), echo: loads.echo.map((l) => l.rate) };
    const best = (xs: number[]): number => Math.max(...xs);
    // CPU per pair in each target process: what the server costs, whatever else the machine runs
    const leastCpu = (ls: Load[]): number => Math.min(...ls.map((l) => l.cpuPerPair));
    const perIdle = await bytesPerIdleDevice(2000);
    console.log(`\n${DEVICES} concurrent devices, WBXML, md5, one Get per HTTP pair; server and echo each in their own process`);
    console.log(`RESULT session_vs_bare_http ${(best(rates.dm) / best(rates.echo)).toFixed(3)}`);
    console.log(`RESULT session_pairs_per_s ${best(rates.dm).toFixed(0)}`);
    console.log(`RESULT bare_http_pairs_per_s ${best(rates.echo).toFixed(0)}`);
    console.log(`RESULT session_server_cpu_us_per_pair ${leastCpu(loads.dm).toFixed(0)}`);
    console.log(`RESULT bare_http_cpu_us_per_pair ${leastCpu(loads.echo).toFixed(0)}`);
    console.log(`RESULT server_bytes_per_idle_device ${perIdle.toFixed(0)}`);
  } finally {
    // SIGINT lets a profiled target (GWMO_BENCH_PROFILE=dir) write its profile
    const exited = (c: ChildProcess) => new Promise((resolve) => c.once('exit', resolve));
    const done = Promise.all([exited(dm.child), exited(echo.child)]);
    dm.child.kill('SIGINT');
    echo.child.kill('SIGINT');
    await done;
  }
}
