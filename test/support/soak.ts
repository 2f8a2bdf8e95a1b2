// The scale-out soak, shared by the short CI test (test/e2e/soak.test.ts) and the long bench
// (`npm run bench -- soak`, bench/soak.ts): two `gwmo server` instances on one PostgreSQL, GATEWAYS
// gateways with DEVICES simulated DM devices each and LWM2M more gateways with LwM2M devices (half
// talk to each instance); fanouts asked alternately on either instance until the time is up, images
// staged alongside, while a gateway, a fleet (device churn) and a server instance are restarted.
// Every fanout must report exactly one result per device (none lost, none twice). With `keepSeconds`
// retention runs on the servers and the gateways, so history stays bounded; the run samples round
// times, every process's RSS and the history rows, for the trends bench/soak.ts prints.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

import { scrape } from './metrics.ts';
import { freePort } from './ports.ts';
import { startPostgres } from './postgres.ts';
import { AUTH, GwmoProcess, type LogLine } from './process.ts';

export interface SoakOptions {
  readonly seconds: number;
  /** gateways with DM devices */
  readonly gateways: number;
  readonly devices: number;
  /** more gateways, each with `devices` LwM2M devices (default 0) */
  readonly lwm2mGateways?: number;
  /** the gateways' check-in period (default 0: at start and for alerts only) */
  readonly checkIn?: number;
  /** retention: finished history older than this is pruned, every `retentionEvery` seconds (default: the servers' and gateways' own defaults) */
  readonly keepSeconds?: number;
  readonly retentionEvery?: number;
  /** an image staged on one of the gateways every this many seconds (default 0: none) */
  readonly imageEvery?: number;
  /** RSS and history rows sampled this often (default 2 s) */
  readonly sampleEvery?: number;
  readonly log?: (line: string) => void;
  /** environment for every spawned process, e.g. NODE_OPTIONS or MALLOC_ARENA_MAX (memory experiments) */
  readonly env?: Record<string, string>;
}

export interface RssSeries {
  /** "server 0", "gateway 1", "fleet 2"; a restarted process starts a new series ("server 1 (restarted)") */
  readonly label: string;
  readonly server: boolean;
  /** seconds since the run started, MB; heap (V8 heap used), external, and the V8 heap's committed size
   * (heapTotal) and that of its young generation (newSpace), in MB from the process's /metrics (servers
   * and gateways; fleets have none) */
  readonly samples: { at: number; mb: number; anon: number; heap?: number; external?: number; heapTotal?: number; newSpace?: number }[];
  /** where its /metrics is, once known */
  metrics?: string;
}

export interface SoakFigures {
  readonly fanouts: number;
  readonly results: number;
  /** fanouts whose Aggregate or Results did not count every device exactly once */
  readonly wrong: readonly string[];
  readonly restarts: readonly string[];
  /** seconds each round of fanouts took (one fanout per gateway, in parallel) */
  readonly rounds: readonly number[];
  readonly rss: readonly RssSeries[];
  /** rows in the server's history tables (operations, alerts, device_jobs), sampled */
  readonly rows: readonly { at: number; rows: number }[];
  readonly stagings: number;
  readonly stagingFailures: readonly string[];
  /** whether the first round's fanout jobs were gone from the gateways at the end (retention) */
  readonly firstJobsPruned: boolean;
  readonly seconds: number;
}

const HISTORY_ROWS = 'SELECT (SELECT count(*) FROM operations) + (SELECT count(*) FROM alerts) + (SELECT count(*) FROM device_jobs) AS n';

// VmRSS counts the pages of the node binary (126 MB, shared by every process) a process has
// touched, which grow as more code paths run; RssAnon is the process's own memory
const rssMb = (pid: number): { mb: number; anon: number } | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / 1024;
    return { mb: kb('VmRSS'), anon: kb('RssAnon') };
  } catch {
    return undefined; // gone (restarting)
  }
};

export async function runSoak(o: SoakOptions): Promise<SoakFigures> {
  const log = o.log ?? (() => {});
  const lwGateways = o.lwm2mGateways ?? 0;
  const cluster = await startPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-soak-'));
  const t0 = Date.now();
  const now = (): number => (Date.now() - t0) / 1000;
  const procs = new Set<GwmoProcess>();
  const rss: RssSeries[] = [];
  const tracked = new Map<GwmoProcess, RssSeries>();
  const spawn = (args: string[], label: string): GwmoProcess => {
    const p = new GwmoProcess(args, [], o.env);
    procs.add(p);
    const restarted = rss.some((s) => s.label === label);
    const series = { label: restarted ? `${label} (restarted)` : label, server: label.startsWith('server'), samples: [] };
    rss.push(series);
    tracked.set(p, series);
    return p;
  };
  const restart = async (p: GwmoProcess, args: string[], label: string, ready: (l: LogLine) => boolean): Promise<GwmoProcess> => {
    await p.stop();
    procs.delete(p);
    const metrics = tracked.get(p)?.metrics;
    tracked.delete(p);
    const q = spawn(args, label);
    if (metrics) tracked.get(q)!.metrics = metrics; // same ports after a restart
    await q.waitFor(ready, 30_000);
    return q;
  };
  let sampler: NodeJS.Timeout | undefined;
  let client: pg.Client | undefined;
  try {
    const db = await cluster.database();
    const ports = [await freePort(), await freePort()];
    const retention =
      o.keepSeconds === undefined
        ? []
        : [
            ...['--keep-operations', '--keep-alerts', '--keep-device-jobs'].flatMap((k) => [k, String(o.keepSeconds! / 86_400)]),
            '--retention-every',
            String(o.retentionEvery ?? 10),
          ];
    const serverArgs = (i: number): string[] => [
      'server',
      '--port',
      String(ports[i]),
      '--db',
      db,
      '--data-dir',
      join(dir, `server-${i}`),
      '--session-timeout',
      '30',
      ...retention,
    ];
    const servers = [spawn(serverArgs(0), 'server 0')];
    tracked.get(servers[0]!)!.metrics = `http://127.0.0.1:${ports[0]}/metrics`;
    await servers[0]!.waitFor((l) => l.event === 'server.started', 30_000);
    servers.push(spawn(serverArgs(1), 'server 1')); // after the first: the first start creates the admin
    tracked.get(servers[1]!)!.metrics = `http://127.0.0.1:${ports[1]}/metrics`;
    await servers[1]!.waitFor((l) => l.event === 'server.started', 30_000);
    client = new pg.Client({ connectionString: db });
    await client.connect();
    const api = ports.map((p) => `http://127.0.0.1:${p}/api`);
    const call = async (i: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const res = await fetch(`${api[i]}${path}`, {
        method,
        headers: { ...AUTH, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: await res.json() };
    };

    const total = o.gateways + lwGateways;
    const isLw = (g: number): boolean => g >= o.gateways;
    const gws = Array.from({ length: total }, (_, g) => `GW:SOAK${g}`);
    // any free port at the first start (a port picked ahead can be taken meanwhile, e.g. by an outgoing
    // connection), the same one at a restart: a restarted gateway is where its devices look
    const lanPorts = gws.map(() => 0);
    const lwPorts = gws.map(() => 0);
    const gwArgs = (g: number): string[] => [
      'gateway',
      '--device-id',
      gws[g]!,
      '--server-url',
      `http://127.0.0.1:${ports[g % 2]}/dm`,
      '--password',
      'gw-pw',
      '--server-password',
      'srv-pw',
      '--lan-port',
      String(lanPorts[g]),
      '--device-password',
      'lan-pw',
      '--lwm2m-port',
      isLw(g) ? String(lwPorts[g]) : 'off',
      '--check-in',
      String(o.checkIn ?? 0),
      '--data-dir',
      join(dir, `gw-${g}`),
    ];
    const gateways: GwmoProcess[] = [];
    const lans: string[] = [];
    for (const [g, id] of gws.entries()) {
      const added = await call(0, 'POST', '/devices', {
        deviceId: id,
        name: 'gateway',
        password: 'gw-pw',
        serverName: 'gwmo',
        serverPassword: 'srv-pw',
      });
      if (added.status !== 201) throw new Error(`cannot add ${id}: ${added.status} ${JSON.stringify(added.json)}`);
      gateways.push(spawn(gwArgs(g), `gateway ${g}`));
      const up = await gateways[g]!.waitFor((l) => l.event === 'gateway.started', 30_000);
      lans.push(String(up['lan']));
      tracked.get(gateways[g]!)!.metrics = String(up['lan']).replace(/\/dm$/, '/metrics');
      lanPorts[g] = Number(new URL(String(up['lan'])).port);
      if (isLw(g)) lwPorts[g] = Number(new URL(String(up['lwm2m'])).port);
    }
    const prefix = (g: number): string => (isLw(g) ? `SOAKLW${g}-` : `SOAK${g}-`);
    const devicesOf = (g: number): string[] => Array.from({ length: o.devices }, (_, d) => `${prefix(g)}${d}`);
    const fleetArgs = (g: number): string[] =>
      isLw(g)
        ? [
            'fleet',
            '--count',
            String(o.devices),
            '--protocol',
            'lwm2m',
            '--server-url',
            `coap://127.0.0.1:${lwPorts[g]}`,
            '--prefix',
            prefix(g),
          ]
        : [
            'fleet',
            '--count',
            String(o.devices),
            '--server-url',
            lans[g]!,
            '--password',
            'lan-pw',
            '--server-password',
            'lan-pw',
            '--prefix',
            prefix(g),
          ];
    const fleets = gws.map((_, g) => spawn(fleetArgs(g), `fleet ${g}`));
    for (const f of fleets) await f.waitFor((l) => l.event === 'fleet.started', 60_000);
    if (o.keepSeconds !== undefined)
      for (const [g, id] of gws.entries()) {
        // the gateways' retention is the server's to set (./GwMO/Config/Retention)
        const set = await call(g % 2, 'PUT', `/gateways/${encodeURIComponent(id)}/config?wait=30`, {
          'Retention/JobSeconds': Math.max(1, Math.round(o.keepSeconds)),
          'Retention/OperationSeconds': Math.max(1, Math.round(o.keepSeconds)),
          'Retention/IntervalSeconds': o.retentionEvery ?? 10,
        });
        if (set.status !== 200) throw new Error(`cannot set ${id}'s retention: ${set.status} ${JSON.stringify(set.json)}`);
      }

    const rows: { at: number; rows: number }[] = [];
    const sample = async (): Promise<void> => {
      const at = now();
      for (const [p, series] of tracked) {
        const rss = p.child.pid === undefined ? undefined : rssMb(p.child.pid);
        if (rss === undefined) continue;
        const m = series.metrics ? await scrape(series.metrics).catch(() => undefined) : undefined;
        const mb = (name: string, labels?: Record<string, string>): number | undefined => {
          const v = m?.(name, labels);
          return v === undefined ? undefined : v / 2 ** 20;
        };
        const v8 = {
          heap: mb('nodejs_heap_size_used_bytes'),
          external: mb('nodejs_external_memory_bytes'),
          heapTotal: mb('nodejs_heap_size_total_bytes'),
          newSpace: mb('nodejs_heap_space_size_total_bytes', { space: 'new' }),
        };
        series.samples.push({ at, ...rss, ...Object.fromEntries(Object.entries(v8).filter(([, v]) => v !== undefined)) });
      }
      rows.push({ at, rows: Number((await client!.query(HISTORY_ROWS)).rows[0].n) });
    };
    await sample();
    sampler = setInterval(() => void sample().catch(() => {}), (o.sampleEvery ?? 2) * 1000);

    // the processes' errors since `from`, for a wrong fanout's message (a CI run keeps no process logs);
    // a server logs its error after it answered 500: waited for a moment
    const errorsSince = async (from: number): Promise<string> => {
      const isError = (l: LogLine): boolean => l['level'] === 'error' && Date.parse(String(l['time'])) >= from;
      await Promise.any([...procs].map((p) => p.waitFor(isError, 5_000))).catch(() => undefined);
      return [...procs]
        .flatMap((p) => p.lines.filter(isError))
        .slice(0, 5)
        .map(
          (l) =>
            ` [${l['role']} ${l.event}: ${String(l['error'] ?? JSON.stringify(l))
              .split('\n')
              .slice(0, 3)
              .join(' ')}]`,
        )
        .join('');
    };
    const fanout = async (g: number, via: number, name: string): Promise<string | undefined> => {
      const from = Date.now();
      // the gateway files the aggregate when every device has answered (or timed out)
      const aggregated = gateways[g]!.next(
        (l) => l.event === 'alert.queued' && String(l['type']).includes(':resultaggregation') && String(l['source']).endsWith(`/${name}`),
        60_000,
      );
      const started = await call(via, 'POST', `/gateways/${encodeURIComponent(gws[g]!)}/fanouts?wait=30`, {
        name,
        devices: devicesOf(g),
        commands: [{ kind: 'Get', path: isLw(g) ? './3/0/0' : './DevInfo/Mod' }],
        timeout: 20,
      });
      if (started.status !== 202)
        return `${name}: start answered ${started.status} ${JSON.stringify(started.json)}${await errorsSince(from)}`;
      await aggregated;
      const job = await call(1 - via, 'GET', `/gateways/${encodeURIComponent(gws[g]!)}/fanouts/${name}?wait=30`);
      const counted = Object.values((job.json.Aggregate ?? {}) as Record<string, string>).reduce((n, v) => n + Number(v), 0);
      const ids = Object.values((job.json.Results ?? {}) as Record<string, { DeviceID?: string }>).map((r) => r.DeviceID);
      const expected = new Set(devicesOf(g));
      // every device answers (200): a device that restarted is woken again by the gateway
      const right =
        job.json.State === '30' &&
        Number(job.json.Aggregate?.['200']) === o.devices &&
        counted === o.devices &&
        ids.length === o.devices &&
        new Set(ids).size === o.devices &&
        ids.every((id) => id !== undefined && expected.has(id));
      return right
        ? undefined
        : `${name}: answered ${job.status}, state ${job.json.State}, ${counted} counted, ${ids.length} results (${new Set(ids).size} devices) for ${o.devices}: ${JSON.stringify(job.json.Aggregate ?? job.json)}${await errorsSince(from)}`;
    };

    // stagings run beside the fanouts, one at a time, and never while a process restarts (a staging
    // cut by a restart is another test's matter)
    const stagingFailures: string[] = [];
    let stagings = 0;
    let lane: Promise<unknown> = Promise.resolve();
    const exclusive = <T>(f: () => Promise<T>): Promise<T> => {
      const p = lane.then(f);
      lane = p.catch(() => {});
      return p;
    };
    let stagingTimer: NodeJS.Timeout | undefined;
    const stage = async (k: number): Promise<void> => {
      const from = Date.now();
      const g = k % total;
      const via = k % 2;
      const name = `img${k}`;
      const bytes = randomBytes(256 * 1024 + k);
      const up = await fetch(`${api[via]}/images?name=${name}&version=1`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      if (up.status !== 201) return void stagingFailures.push(`${name}: upload answered ${up.status}${await errorsSince(from)}`);
      const id = ((await up.json()) as { id: string }).id;
      const ready = gateways[g]!.next(
        (l) => l.event === 'alert.queued' && String(l['type']).includes(':imageready') && String(l['source']).includes(`/${name}/`),
        60_000,
      );
      const started = await call(via, 'POST', `/gateways/${encodeURIComponent(gws[g]!)}/images?wait=30`, { image: id, name });
      if (started.status !== 202)
        return void stagingFailures.push(
          `${name}: staging answered ${started.status} ${JSON.stringify(started.json)}${await errorsSince(from)}`,
        );
      await ready;
      log(`${name} staged on gateway ${g}`);
      const inventory = await call(1 - via, 'GET', `/gateways/${encodeURIComponent(gws[g]!)}/images?wait=30`);
      const sha = createHash('sha256').update(bytes).digest('hex');
      const state = (inventory.json as Record<string, { State?: string }>)[name]?.State;
      let onDisk = '';
      try {
        onDisk = createHash('sha256')
          .update(readFileSync(join(dir, `gw-${g}`, 'images', 'sha256', sha)))
          .digest('hex');
      } catch {}
      if (state !== '30') stagingFailures.push(`${name}: state ${state}: ${JSON.stringify(inventory.json[name])}`);
      else if (onDisk !== sha) stagingFailures.push(`${name}: stored, but not on the gateway's disk under its SHA-256`);
      else stagings++;
      // the server's copy is no longer needed: what the run keeps stays bounded
      await fetch(`${api[via]}/images/${id}`, { method: 'DELETE', headers: AUTH });
    };
    if (o.imageEvery) {
      let k = 0;
      stagingTimer = setInterval(() => {
        const n = k++;
        void exclusive(() => stage(n)).catch((err: unknown) => void stagingFailures.push(`img${n}: ${String(err)}`));
      }, o.imageEvery * 1000);
    }

    const planned = [
      async () => {
        gateways[0] = await exclusive(() => restart(gateways[0]!, gwArgs(0), 'gateway 0', (l) => l.event === 'gateway.started'));
        return 'gateway 0';
      },
      async () => {
        const g = o.gateways - 1;
        fleets[g] = await exclusive(() => restart(fleets[g]!, fleetArgs(g), `fleet ${g}`, (l) => l.event === 'fleet.started'));
        return `fleet of gateway ${g} (device churn)`;
      },
      async () => {
        servers[1] = await exclusive(() => restart(servers[1]!, serverArgs(1), 'server 1', (l) => l.event === 'server.started'));
        return 'server instance 1';
      },
    ];
    const started = now();
    let logged = 0;
    const figures = { fanouts: 0, results: 0, wrong: [] as string[], restarts: [] as string[], rounds: [] as number[] };
    // the restarts fall at 10 %, 20 % and 30 % of the run, so the restarted processes run long after
    for (let round = 0; round === 0 || now() - started < o.seconds || planned.length > 0; round++) {
      const r0 = performance.now();
      const outcomes = await Promise.all(gws.map((_, g) => fanout(g, (round + g) % 2, `r${round}g${g}`)));
      figures.rounds.push((performance.now() - r0) / 1000);
      figures.fanouts += gws.length;
      for (const w of outcomes) if (w) figures.wrong.push(w);
      figures.results += o.devices * outcomes.filter((w) => w === undefined).length;
      if (round === 0 || now() - logged >= 60) {
        logged = now();
        log(
          `round ${round}: ${figures.fanouts} fanouts, ${figures.results} results, ${figures.wrong.length} wrong, ${stagings} stagings, ${now().toFixed(0)} s, ${rows.at(-1)?.rows} history rows, RSS ${rss
            .filter((s) => s.server)
            .map((s) => `${s.label} ${s.samples.at(-1)?.mb.toFixed(0)}`)
            .join(', ')} MB`,
        );
      }
      if (planned.length > 0 && now() - started >= ((4 - planned.length) * o.seconds) / 10) {
        figures.restarts.push(await planned.shift()!());
        log(`restarted ${figures.restarts.at(-1)} at ${now().toFixed(0)} s`);
      }
    }
    clearInterval(stagingTimer);
    await exclusive(async () => {});
    clearInterval(sampler);
    await sample();
    const first = await Promise.all(
      gws.map((g, i) => call(i % 2, 'GET', `/gateways/${encodeURIComponent(g)}/fanouts/r0g${i}?wait=30`).then((r) => r.status)),
    );
    return {
      ...figures,
      rss,
      rows,
      stagings,
      stagingFailures,
      firstJobsPruned: first.every((s) => s === 404),
      seconds: now() - started,
    };
  } finally {
    clearInterval(sampler);
    await client?.end().catch(() => {});
    for (const p of [...procs].reverse()) await p.stop();
    await cluster.close();
    await rm(dir, { recursive: true, force: true });
  }
}
