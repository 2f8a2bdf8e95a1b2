// The scale-out soak, shared by the short CI test (test/e2e/soak.test.ts) and the long script
// (scripts/soak.ts): two `gwmo server` instances on one PostgreSQL, GATEWAYS gateways (half talk to
// each instance) with DEVICES simulated devices each; fanouts asked alternately on either instance
// until the time is up, while a gateway, a fleet (device churn) and a server instance are restarted.
// Every fanout must report exactly one result per device (none lost, none twice).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startPostgres } from './postgres.ts';
import { AUTH, GwmoProcess } from './process.ts';
import { freePort } from './ports.ts';

export interface SoakOptions {
  readonly seconds: number;
  readonly gateways: number;
  readonly devices: number;
  readonly log?: (line: string) => void;
}

export interface SoakFigures {
  readonly fanouts: number;
  readonly results: number;
  /** fanouts whose Aggregate did not count every device exactly once */
  readonly wrong: readonly string[];
  readonly restarts: readonly string[];
  /** resident memory of the instance that is never restarted, after the first round and at the end */
  readonly rssFirstMb: number;
  readonly rssLastMb: number;
  readonly seconds: number;
}

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

export async function runSoak(o: SoakOptions): Promise<SoakFigures> {
  const log = o.log ?? (() => {});
  const cluster = await startPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-soak-'));
  const procs = new Set<GwmoProcess>();
  const spawn = (args: string[]): GwmoProcess => {
    const p = new GwmoProcess(args);
    procs.add(p);
    return p;
  };
  const restart = async (p: GwmoProcess, args: string[], ready: (l: { event: string }) => boolean): Promise<GwmoProcess> => {
    await p.stop();
    procs.delete(p);
    const q = spawn(args);
    await q.waitFor(ready, 30_000);
    return q;
  };
  try {
    const db = await cluster.database();
    const ports = [await freePort(), await freePort()];
    const lanPorts = await Promise.all(Array.from({ length: o.gateways }, () => freePort())); // fixed: a restarted gateway is where its devices look
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
    ];
    const servers = [spawn(serverArgs(0))];
    await servers[0]!.waitFor((l) => l.event === 'server.started', 30_000);
    servers.push(spawn(serverArgs(1))); // after the first: the first start creates the admin
    await servers[1]!.waitFor((l) => l.event === 'server.started', 30_000);
    const api = ports.map((p) => `http://127.0.0.1:${p}/api`);
    const call = async (i: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const res = await fetch(`${api[i]}${path}`, {
        method,
        headers: { ...AUTH, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: await res.json() };
    };

    const gws = Array.from({ length: o.gateways }, (_, g) => `GW:SOAK${g}`);
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
      'off',
      '--check-in',
      '0',
      '--data-dir',
      join(dir, `gw-${g}`),
    ];
    const gateways: GwmoProcess[] = [];
    const lans: string[] = [];
    for (const [g, id] of gws.entries()) {
      if (
        (
          await call(0, 'POST', '/devices', {
            deviceId: id,
            name: 'gateway',
            password: 'gw-pw',
            serverName: 'gwmo',
            serverPassword: 'srv-pw',
          })
        ).status !== 201
      )
        throw new Error(`cannot add ${id}`);
      gateways.push(spawn(gwArgs(g)));
      lans.push(String((await gateways[g]!.waitFor((l) => l.event === 'gateway.started', 30_000))['lan']));
    }
    const devicesOf = (g: number): string[] => Array.from({ length: o.devices }, (_, d) => `SOAK${g}-${d}`);
    const fleetArgs = (g: number): string[] => [
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
      `SOAK${g}-`,
    ];
    const fleets = gws.map((_, g) => spawn(fleetArgs(g)));
    for (const f of fleets) await f.waitFor((l) => l.event === 'fleet.started', 60_000);

    const fanout = async (g: number, via: number, name: string): Promise<string | undefined> => {
      // the gateway files the aggregate when every device has answered (or timed out)
      const aggregated = gateways[g]!.next(
        (l) => l.event === 'alert.queued' && String(l['type']).includes(':resultaggregation') && String(l['source']).endsWith(`/${name}`),
        60_000,
      );
      const started = await call(via, 'POST', `/gateways/${encodeURIComponent(gws[g]!)}/fanouts?wait=30`, {
        name,
        devices: devicesOf(g),
        commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
        timeout: 20,
      });
      if (started.status !== 202) return `${name}: start answered ${started.status} ${JSON.stringify(started.json)}`;
      await aggregated;
      const job = await call(1 - via, 'GET', `/gateways/${encodeURIComponent(gws[g]!)}/fanouts/${name}?wait=30`);
      const counted = Object.values((job.json.Aggregate ?? {}) as Record<string, string>).reduce((n, v) => n + Number(v), 0);
      const ids = Object.values((job.json.Results ?? {}) as Record<string, { DeviceID?: string }>).map((r) => r.DeviceID);
      // every device answers (200): a device that restarted is woken again by the gateway
      return job.json.State === '30' &&
        Number(job.json.Aggregate?.['200']) === o.devices &&
        counted === o.devices &&
        new Set(ids).size === o.devices &&
        ids.length === o.devices
        ? undefined
        : `${name}: state ${job.json.State}, ${counted} counted, ${ids.length} results (${new Set(ids).size} devices) for ${o.devices}: ${JSON.stringify(job.json.Aggregate)}`;
    };

    const started = Date.now();
    const figures = { fanouts: 0, results: 0, wrong: [] as string[], restarts: [] as string[], rssFirstMb: 0 };
    const planned = [
      async () => {
        gateways[0] = await restart(gateways[0]!, gwArgs(0), (l) => l.event === 'gateway.started');
        return 'gateway 0';
      },
      async () => {
        const g = gws.length - 1;
        fleets[g] = await restart(fleets[g]!, fleetArgs(g), (l) => l.event === 'fleet.started');
        return `fleet of gateway ${g} (device churn)`;
      },
      async () => {
        servers[1] = await restart(servers[1]!, serverArgs(1), (l) => l.event === 'server.started');
        return 'server instance 1';
      },
    ];
    for (let round = 0; round === 0 || Date.now() - started < o.seconds * 1000 || planned.length > 0; round++) {
      const outcomes = await Promise.all(gws.map((_, g) => fanout(g, (round + g) % 2, `r${round}g${g}`)));
      figures.fanouts += gws.length;
      for (const w of outcomes) if (w) figures.wrong.push(w);
      figures.results += o.devices * outcomes.filter((w) => w === undefined).length;
      if (round === 0) figures.rssFirstMb = rssMb(servers[0]!.child.pid!);
      log(
        `round ${round}: ${figures.fanouts} fanouts, ${figures.results} results, ${figures.wrong.length} wrong, ${((Date.now() - started) / 1000).toFixed(0)} s, instance 0 RSS ${rssMb(servers[0]!.child.pid!).toFixed(0)} MB`,
      );
      const next = planned.shift();
      if (next) figures.restarts.push(await next());
    }
    return { ...figures, rssLastMb: rssMb(servers[0]!.child.pid!), seconds: (Date.now() - started) / 1000 };
  } finally {
    for (const p of [...procs].reverse()) await p.stop();
    await cluster.close();
    await rm(dir, { recursive: true, force: true });
  }
}
