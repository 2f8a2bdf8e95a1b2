// Two `gwmo server` processes on one PostgreSQL behave as one server (issue 9, "Scale out").
// Actors: A and B, server instances on their own ports and one database; devices and a gateway
// that talk to one instance while the API is asked on the other.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { type PgCluster, startPostgres } from '../support/postgres.ts';
import { type Instance, startInstance } from '../support/instance.ts';
import { GwmoProcess, type LogLine } from '../support/process.ts';

let cluster: PgCluster;
let dir: string;
before(async () => {
  cluster = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'gwmo-scale-'));
});
after(async () => {
  await cluster?.close();
  await rm(dir, { recursive: true, force: true });
});

const instance = (db: string, name: string): Promise<Instance> => startInstance(db, join(dir, name));

const doneIds = (lines: readonly LogLine[]): string[] => lines.filter((l) => l.event === 'operation.done').map((l) => String(l['id']));

test("an operation queued on A is carried out in the device's session on B; A's ?wait answers when B finishes; two sessions never run one operation twice", async () => {
  const db = await cluster.database();
  const a = await instance(db, 'a1');
  const b = await instance(db, 'b1');
  const procs: GwmoProcess[] = [a.proc, b.proc];
  try {
    const id = 'IMEI:SCALE-1';
    const enc = encodeURIComponent(id);
    assert.equal(
      (
        await a.call('POST', '/devices', {
          deviceId: id,
          name: 'dev',
          password: 'dev-pw',
          serverName: 'gwmo',
          serverPassword: 'srv-pw',
          scheme: 'basic',
        })
      ).status,
      201,
    );
    assert.equal((await b.call('GET', `/devices/${enc}`)).json.deviceId, id, 'B sees the account made on A');

    const get = await a.call('POST', `/devices/${enc}/operations`, { kind: 'Get', path: './DevInfo/Mod' });
    const waiting = a.call('GET', `/operations/${get.json.id}?wait=30`);
    const device = (url: string): GwmoProcess =>
      new GwmoProcess([
        'device',
        '--device-id',
        id,
        '--server-url',
        url,
        '--username',
        'dev',
        '--password',
        'dev-pw',
        '--server-password',
        'srv-pw',
        '--auth',
        'basic',
        '--tree',
        ':memory:',
        '--model',
        'SCALE-1',
        '--once',
      ]);
    const onB = device(b.dm);
    procs.push(onB);
    assert.equal((await onB.waitFor((l) => l.event === 'session.end', 30_000))['end'], 'done');
    const answered = await waiting;
    assert.deepEqual([answered.json.state, answered.json.status, answered.json.results[0]?.value], ['done', 200, 'SCALE-1']);
    assert.deepEqual(doneIds(b.proc.lines), [get.json.id], 'B ran it');
    assert.deepEqual(doneIds(a.proc.lines), []);

    // the same device in a session with each instance at once: every operation runs exactly once
    const ids: string[] = [];
    for (let i = 0; i < 40; i++)
      ids.push(
        (await a.call('POST', `/devices/${enc}/operations`, { kind: 'Add', path: `./Vendor/gwmo/N${i}`, value: String(i) })).json.id,
      );
    const both = [device(a.dm), device(b.dm)];
    procs.push(...both);
    for (const d of both) assert.equal((await d.waitFor((l) => l.event === 'session.end', 30_000))['end'], 'done');
    // (the two sessions share the device's nonces, so some may end in 401: what counts is that each operation has one outcome)
    const ran = [...doneIds(a.proc.lines), ...doneIds(b.proc.lines)].filter((x) => ids.includes(x));
    assert.equal(ran.length, 40, 'every operation got an outcome');
    assert.equal(new Set(ran).size, 40, 'none was sent twice');
    const ops = (await b.call('GET', `/devices/${enc}/operations?limit=100`)).json.items as { state: string }[];
    assert.ok(
      ops.every((o) => o.state === 'done' || o.state === 'failed'),
      JSON.stringify(ops.filter((o) => o.state !== 'done')),
    );
  } finally {
    for (const p of procs.reverse()) await p.stop();
  }
});

test('a device job created on A completes when its gateway reports to B', async () => {
  const db = await cluster.database();
  const a = await instance(db, 'a2');
  const b = await instance(db, 'b2');
  const procs: GwmoProcess[] = [a.proc, b.proc];
  try {
    assert.equal(
      (
        await a.call('POST', '/devices', {
          deviceId: 'GW:SCALE',
          name: 'gateway',
          password: 'gw-pw',
          serverName: 'gwmo',
          serverPassword: 'srv-pw',
        })
      ).status,
      201,
    );
    const gateway = new GwmoProcess([
      'gateway',
      '--device-id',
      'GW:SCALE',
      '--server-url',
      b.dm,
      '--password',
      'gw-pw',
      '--server-password',
      'srv-pw',
      '--lan-port',
      '0',
      '--device-password',
      'lan-pw',
      '--lwm2m-port',
      'off',
      '--check-in',
      '0',
      '--data-dir',
      join(dir, 'gw2'),
    ]);
    procs.push(gateway);
    const lan = String((await gateway.waitFor((l) => l.event === 'gateway.started', 30_000))['lan']);
    await b.proc.waitFor((l) => l.event === 'session.end' && l['deviceId'] === 'GW:SCALE', 30_000);
    // asked on A, carried out on B: the gateway is to announce its devices (deviceattached)
    const config = await a.call('POST', '/devices/GW%3ASCALE/operations', {
      kind: 'Replace',
      path: './GwMO/Config/InventoryAlerts/Attach',
      value: 'true',
    });
    assert.equal((await a.call('POST', '/devices/GW%3ASCALE/notify', {})).status, 202, 'A wakes the gateway at the address it told B');
    assert.equal((await a.call('GET', `/operations/${config.json.id}?wait=30`)).json.status, 200);

    const device = new GwmoProcess([
      'device',
      '--device-id',
      'IMEI:BEHIND',
      '--server-url',
      lan,
      '--server-id',
      'gwmo-gateway',
      '--password',
      'lan-pw',
      '--server-password',
      'lan-pw',
      '--tree',
      ':memory:',
      '--model',
      'BEHIND-1',
    ]);
    procs.push(device);
    await device.waitFor((l) => l.event === 'session.end', 30_000);
    // the deviceattached alert reached B; A reads where the device is from the shared store
    await b.proc.waitFor((l) => l.event === 'device.located' && l['deviceId'] === 'IMEI:BEHIND', 30_000);
    const at = await a.call('GET', '/devices/IMEI%3ABEHIND/location');
    assert.equal(at.json.gatewayId, 'GW:SCALE');

    const job = await a.call('POST', '/devices/IMEI%3ABEHIND/jobs', { commands: [{ kind: 'Get', path: './DevInfo/Mod' }] });
    assert.equal(job.status, 202, JSON.stringify(job.json));
    const settled = await a.call('GET', `/jobs/${job.json.id}?wait=60`);
    assert.deepEqual([settled.json.state, settled.json.status, settled.json.results?.[0]?.data], ['done', 200, 'BEHIND-1']);
    assert.ok(
      b.proc.lines.some((l) => l.event === 'session.end' && l['deviceId'] === 'GW:SCALE'),
      'the gateway talked to B only',
    );
    assert.ok(!a.proc.lines.some((l) => l.event === 'session.end'), 'no session on A');
    assert.ok(
      b.proc.lines.some((l) => l.event === 'operation.done' && l['id'] === config.json.id),
      'B ran what A queued',
    );
  } finally {
    for (const p of procs.reverse()) await p.stop();
  }
});
