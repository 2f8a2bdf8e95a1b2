// Two `gwmo server` instances on one PostgreSQL behind Debian's HAProxy, round-robin, no stickiness,
// both with the balancer's URL as their public URL (issue 22), configured with docs/scale.md's
// haproxy.cfg. Actors: six DM devices (in this process) and a gateway with four devices behind it,
// all of which know only the balancer's URL; the API asked through the balancer too. Sessions take
// several messages (two commands per message), so their messages alternate between the instances
// and reach the owner forwarded. Instance A is killed -9 mid-run and restarted: every operation
// ends exactly once, every fanout has one 200 per device.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { DmHttpClient } from '../../src/transport/index.ts';
import { type Haproxy, haproxyMissing, startHaproxy } from '../support/haproxy.ts';
import { freePort } from '../support/ports.ts';
import { type PgCluster, startPostgres } from '../support/postgres.ts';
import { AUTH, GwmoProcess, type LogLine } from '../support/process.ts';

const missing = haproxyMissing();
let cluster: PgCluster;
let dir: string;
before(async () => {
  if (missing) return;
  cluster = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'gwmo-lb-'));
});
after(async () => {
  await cluster?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const DEVICES = 6;
const LAN_DEVICES = 4;

test('HAProxy round-robin in front of two instances with one public URL: sessions complete, A killed -9 and restarted mid-run, B drained, every operation ends once, every fanout completes', {
  skip: missing,
}, async () => {
  const db = await cluster.database();
  const [lbPort, portA, portB, lanPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const publicUrl = `http://127.0.0.1:${lbPort}/dm`;
  const serverArgs = (name: string, port: number): string[] => [
    'server',
    '--port',
    String(port),
    '--db',
    db,
    '--data-dir',
    join(dir, name),
    '--server-id',
    'gwmo',
    '--public-url',
    publicUrl,
    '--session-timeout',
    '30',
    // as docs/scale.md starts them
    '--internal-url',
    `http://127.0.0.1:${port}/dm`,
    '--drain',
    '20',
  ];
  const procs = new Set<GwmoProcess>();
  const spawn = (args: string[]): GwmoProcess => {
    const p = new GwmoProcess(args);
    procs.add(p);
    return p;
  };
  const setup = Date.now();
  const aLives = [spawn(serverArgs('a', portA))];
  await aLives[0]!.waitFor((l) => l.event === 'server.started', 30_000);
  const b = spawn(serverArgs('b', portB)); // after A: the first start creates the admin
  await b.waitFor((l) => l.event === 'server.started', 30_000);
  let lb: Haproxy | undefined;
  const http = new DmHttpClient({ maxSockets: 16, retries: 1, retryDelay: async () => {} });
  const devices: DmDevice[] = [];
  try {
    lb = await startHaproxy(dir, lbPort, [portA, portB]);
    const api = `${lb.url}/api`;
    const call = async (method: string, path: string, body?: unknown, again = method === 'GET'): Promise<{ status: number; json: any }> => {
      let res: Response;
      try {
        res = await fetch(`${api}${path}`, {
          method,
          headers: { ...AUTH, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      } catch (err) {
        // a read whose instance was killed under it is asked again, as an operator's client would
        if (again) return call(method, path, body, false);
        throw err;
      }
      if (res.status === 502 && again) return call(method, path, body, false);
      return { status: res.status, json: res.status === 204 ? undefined : await res.json() };
    };

    // the fleet of DM devices, accounts made through the balancer
    const ids = Array.from({ length: DEVICES }, (_, i) => `IMEI:LB-${i}`);
    for (const id of ids) {
      const made = await call('POST', '/devices', {
        deviceId: id,
        name: 'device',
        password: 'dev-pw',
        serverName: 'gwmo',
        serverPassword: 'srv-pw',
        sessionProfile: { commandsPerMessage: 2 },
      });
      assert.equal(made.status, 201, JSON.stringify(made.json));
      const d = new DmDevice(
        {
          deviceId: id,
          serverUrl: publicUrl,
          serverId: 'gwmo',
          username: 'device',
          password: 'dev-pw',
          serverPassword: 'srv-pw',
          auth: 'md5',
          encoding: 'wbxml',
          manufacturer: 'gwmo',
          model: 'LB-1',
          language: 'en',
          firmware: '1.0.0',
          notifyHost: '127.0.0.1',
          notifyPort: 0,
          checkInSeconds: 0,
        },
        undefined,
        () => {},
        http,
      );
      await d.start();
      devices.push(d);
    }

    // the gateway and its LAN devices: the gateway knows only the balancer
    assert.equal(
      (
        await call('POST', '/devices', {
          deviceId: 'GW:LB',
          name: 'gateway',
          password: 'gw-pw',
          serverName: 'gwmo',
          serverPassword: 'srv-pw',
        })
      ).status,
      201,
    );
    const gateway = spawn([
      'gateway',
      '--device-id',
      'GW:LB',
      '--server-url',
      publicUrl,
      '--password',
      'gw-pw',
      '--server-password',
      'srv-pw',
      '--lan-port',
      String(lanPort),
      '--device-password',
      'lan-pw',
      '--lwm2m-port',
      'off',
      '--check-in',
      '0',
      '--data-dir',
      join(dir, 'gw'),
    ]);
    const lan = String((await gateway.waitFor((l) => l.event === 'gateway.started', 30_000))['lan']);
    const fleet = spawn([
      'fleet',
      '--count',
      String(LAN_DEVICES),
      '--server-url',
      lan,
      '--password',
      'lan-pw',
      '--server-password',
      'lan-pw',
      '--prefix',
      'LBLAN-',
    ]);
    await fleet.waitFor((l) => l.event === 'fleet.started', 60_000);
    const lanIds = Array.from({ length: LAN_DEVICES }, (_, i) => `LBLAN-${i}`);

    const queued: string[] = [];
    /** sessions that did not end well (the kill breaks some): told when GWMO_TEST_LOG is set */
    const broken: string[] = [];
    const t0 = Date.now();
    if (process.env['GWMO_TEST_LOG']) console.error(`setup ${t0 - setup} ms`);
    const say = (text: string): void => {
      if (process.env['GWMO_TEST_LOG']) console.error(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${text}`);
    };
    /** five operations per device: a session of several messages (two commands per message) */
    const queue = async (round: number, commands: readonly (readonly ['Add' | 'Replace', string])[]): Promise<void> => {
      for (const [i, id] of ids.entries()) {
        const enc = encodeURIComponent(id);
        for (const [k, [kind, leaf]] of commands.entries()) {
          const op = await call('POST', `/devices/${enc}/operations`, { kind, path: `./Vendor/gwmo/N${i}${leaf}`, value: `${round}.${k}` });
          assert.equal(op.status, 201, JSON.stringify(op.json));
          queued.push(op.json.id);
        }
        const get = await call('POST', `/devices/${enc}/operations`, { kind: 'Get', path: './DevInfo/Mod' });
        queued.push(get.json.id);
      }
    };
    /** each device runs sessions until nothing it was given is left open (a session broken by the kill is followed by a new one) */
    const settle = async (deadlineMs: number): Promise<void> => {
      const until = Date.now() + deadlineMs;
      await Promise.all(
        devices.map(async (d, i) => {
          for (;;) {
            const r = await d.session();
            if (r.end !== 'done') broken.push(`${ids[i]}: ${r.end}${r.error ? ` (${r.error})` : ''}`);
            const ops = (await call('GET', `/devices/${encodeURIComponent(ids[i]!)}/operations?limit=100`)).json.items as {
              state: string;
            }[];
            if (ops.every((o) => o.state !== 'queued' && o.state !== 'sent')) return;
            assert.ok(
              Date.now() < until,
              `${ids[i]}: operations still open: ${JSON.stringify(ops.filter((o) => o.state === 'queued' || o.state === 'sent'))}`,
            );
            // a device checking in again; what A had sent comes back once A's beat is 15 s old
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }),
      );
    };
    const startFanout = async (name: string): Promise<void> => {
      const started = await call('POST', `/gateways/GW%3ALB/fanouts`, {
        name,
        devices: lanIds,
        commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
        timeout: 20,
      });
      assert.equal(started.status, 202, JSON.stringify(started.json));
    };
    const fanout = async (name: string, start = true): Promise<void> => {
      if (start) await startFanout(name);
      let job: any;
      const until = Date.now() + 45_000;
      do {
        job = (await call('GET', `/gateways/GW%3ALB/fanouts/${name}?wait=20`)).json;
      } while (job.State !== '30' && Date.now() < until);
      const ids = Object.values((job.Results ?? {}) as Record<string, { DeviceID?: string }>).map((r) => r.DeviceID);
      assert.equal(job.State, '30', `${name} did not complete: ${JSON.stringify(job)}`);
      assert.equal(Number(job.Aggregate?.['200']), LAN_DEVICES, `${name}: ${JSON.stringify(job.Aggregate)}`);
      assert.deepEqual([...ids].sort(), [...lanIds].sort(), `${name}: one result per device`);
    };

    // round 1, both up
    await queue(1, [
      ['Add', 'a'],
      ['Add', 'b'],
      ['Replace', 'a'],
      ['Replace', 'b'],
    ]);
    await Promise.all([settle(20_000), fanout('lb1')]);
    const relayed = async (port: number): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/gwmo_dm_forwarded_total\{role="server",outcome="relayed"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const [fromA, fromB] = [await relayed(portA), await relayed(portB)];
    say(`round 1 done; relayed by A ${fromA}, by B ${fromB}`);
    assert.ok(fromA > 0 && fromB > 0, `both instances passed messages on to the other (A ${fromA}, B ${fromB}): round-robin per message`);

    // round 2: A is killed -9 while sessions run; idempotent commands only (what A had sent is sent again)
    await queue(2, [
      ['Replace', 'a'],
      ['Replace', 'b'],
      ['Replace', 'a'],
      ['Replace', 'b'],
    ]);
    // killed as it files a result: that session has more messages to go
    await startFanout('lb2');
    const midSession = aLives[0]!.next((l) => l.event === 'operation.done', 20_000);
    const running = Promise.all([settle(40_000), fanout('lb2', false)]);
    await midSession;
    const aGone = new Promise((resolve) => aLives[0]!.child.once('exit', resolve));
    aLives[0]!.child.kill('SIGKILL');
    await aGone;
    await running;
    say(`round 2 done after the kill; broken sessions: ${JSON.stringify(broken)}`);
    assert.ok(broken.length > 0, 'the kill broke sessions under way');

    // round 3: A back on its port; HAProxy's check takes it in again
    aLives.push(spawn(serverArgs('a', portA)));
    await aLives[1]!.waitFor((l) => l.event === 'server.started', 30_000);
    await queue(3, [
      ['Add', 'c'],
      ['Add', 'd'],
      ['Replace', 'c'],
      ['Replace', 'd'],
    ]);
    await Promise.all([settle(30_000), fanout('lb3')]);
    say('round 3 done');

    // round 4: B drained for an upgrade (SIGTERM) while sessions run: none breaks, B exits by itself
    await queue(4, [
      ['Replace', 'c'],
      ['Replace', 'd'],
      ['Replace', 'a'],
      ['Replace', 'b'],
    ]);
    const before = broken.length;
    const bBusy = b.next((l) => l.event === 'operation.done', 20_000);
    const sessions = settle(30_000);
    await bBusy; // a session on B has more messages to go
    const bStopped = b.stop();
    await b.waitFor((l) => l.event === 'server.draining', 10_000);
    await sessions;
    assert.deepEqual(broken.slice(before), [], 'no session broke while B drained');
    assert.equal(await bStopped, 0, 'B stopped on its own once idle');
    say('round 4 (B drained) done');

    // every operation ended exactly once, done
    const done = [...aLives, b].flatMap((p) => p.lines.filter((l: LogLine) => l.event === 'operation.done').map((l) => String(l['id'])));
    // (a process killed -9 may not have written its last log lines: the states below are the record)
    const ours = done.filter((id) => queued.includes(id));
    assert.equal(new Set(ours).size, ours.length, 'no operation finished twice');
    for (const id of ids) {
      const ops = (await call('GET', `/devices/${encodeURIComponent(id)}/operations?limit=100`)).json.items as {
        id: string;
        state: string;
        status: number;
      }[];
      const bad = ops.filter((o) => queued.includes(o.id) && (o.state !== 'done' || o.status !== 200));
      assert.deepEqual(bad, [], `${id}: every operation done with 200`);
    }
  } finally {
    const t1 = Date.now();
    for (const d of devices) await d.stop();
    http.close();
    await lb?.stop();
    for (const p of [...procs].reverse()) await p.stop();
    if (process.env['GWMO_TEST_LOG']) console.error(`teardown ${Date.now() - t1} ms`);
  }
});
