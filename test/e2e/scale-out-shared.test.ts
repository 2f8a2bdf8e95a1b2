// Two `gwmo server` processes on one PostgreSQL share what used to be per instance: the push
// channel (a gateway long-polling B is woken by an operation asked on A), images, the first admin.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { type PgCluster, startPostgres } from '../support/postgres.ts';
import { ImageState } from '../../src/store/gateway.ts';
import { startInstance } from '../support/instance.ts';
import { AUTH, GwmoProcess } from '../support/process.ts';

let cluster: PgCluster;
let dir: string;
before(async () => {
  cluster = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'gwmo-shared-'));
});
after(async () => {
  await cluster?.close();
  await rm(dir, { recursive: true, force: true });
});

const counter = async (dm: string, labels: string): Promise<number> => {
  const text = await (await fetch(dm.replace(/\/dm$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`gwmo_notifications_total{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
};

test('a gateway long-polling B is woken through B when an operation is asked on A (no UDP from A)', async () => {
  const db = await cluster.database();
  const a = await startInstance(db, join(dir, 'a1'));
  const b = await startInstance(db, join(dir, 'b1'));
  const procs: GwmoProcess[] = [a.proc, b.proc];
  try {
    assert.equal(
      (
        await a.call('POST', '/devices', {
          deviceId: 'GW:POLL',
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
      'GW:POLL',
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
      '--push-channel',
      '--data-dir',
      join(dir, 'gw1'),
    ]);
    procs.push(gateway);
    await gateway.waitFor((l) => l.event === 'push.channel' && l['state'] === 'connected', 30_000);
    await b.proc.waitFor((l) => l.event === 'session.end' && l['deviceId'] === 'GW:POLL', 30_000);

    const get = await a.call('POST', '/devices/GW%3APOLL/operations', { kind: 'Get', path: './DevInfo/Mod' });
    const notified = await a.call('POST', '/devices/GW%3APOLL/notify', {});
    assert.deepEqual([notified.status, notified.json.address], [202, 'push channel'], JSON.stringify(notified.json));
    const done = await a.call('GET', `/operations/${get.json.id}?wait=20`);
    assert.deepEqual([done.json.state, done.json.status], ['done', 200], JSON.stringify(done.json));
    assert.ok(
      b.proc.lines.some((l) => l.event === 'operation.done' && l['id'] === get.json.id),
      'the session it opened was with B',
    );
    assert.equal(await counter(a.dm, 'outcome="relayed"'), 1, 'A handed the Package#0 to B');
    assert.equal(await counter(a.dm, 'channel="udp"'), 0, 'A sent no UDP');
    assert.equal(await counter(b.dm, 'channel="udp"'), 0);
  } finally {
    for (const p of procs.reverse()) await p.stop();
  }
});

test('an image uploaded on A is served by B (Range too) and a gateway staging it from B stores it with its SHA-256', async () => {
  const db = await cluster.database();
  const a = await startInstance(db, join(dir, 'a2'));
  const b = await startInstance(db, join(dir, 'b2'));
  const procs: GwmoProcess[] = [a.proc, b.proc];
  try {
    const bytes = randomBytes(700 * 1024 + 13); // several 256 KiB chunks and a short last one
    const sha = createHash('sha256').update(bytes).digest('hex');
    const up = await fetch(`${a.api}/images?name=fw&version=3`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    assert.equal(up.status, 201);
    assert.deepEqual(
      (await b.call('GET', '/images')).json.items.map((i: { sha256: string }) => i.sha256),
      [sha],
      'B lists it',
    );

    const base = b.dm.replace(/\/dm$/, '');
    assert.equal((await fetch(`${base}/images/${sha}`)).status, 401, 'not without credentials');
    const whole = await fetch(`${base}/images/${sha}`, { headers: AUTH });
    assert.equal(whole.status, 200);
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(bytes));
    const part = await fetch(`${base}/images/${((await up.json()) as { id: string }).id}`, {
      headers: { ...AUTH, range: 'bytes=262000-530000' },
    });
    assert.deepEqual([part.status, part.headers.get('content-range')], [206, `bytes 262000-530000/${bytes.length}`]);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(262000, 530001)), 'a range across chunk boundaries');

    assert.equal(
      (
        await a.call('POST', '/devices', {
          deviceId: 'GW:IMG',
          name: 'gateway',
          password: 'gw-pw',
          serverName: 'gwmo',
          serverPassword: 'srv-pw',
        })
      ).status,
      201,
    );
    const gwDir = join(dir, 'gw2');
    const gateway = new GwmoProcess([
      'gateway',
      '--device-id',
      'GW:IMG',
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
      gwDir,
    ]);
    procs.push(gateway);
    await b.proc.waitFor((l) => l.event === 'session.end' && l['deviceId'] === 'GW:IMG', 30_000);
    const staged = await b.call('POST', '/gateways/GW%3AIMG/images?wait=20', { image: sha, name: 'fw3' });
    assert.equal(
      staged.status,
      202,
      JSON.stringify(staged.json) + JSON.stringify(gateway.lines.slice(-10)) + JSON.stringify(b.proc.lines.slice(-10)),
    );
    assert.equal(staged.json.started, true);
    // each look is a DM round trip to the gateway (?wait), not a sleep
    let listed: any;
    for (let i = 0; i < 20; i++) {
      listed = (await b.call('GET', '/gateways/GW%3AIMG/images?wait=20')).json;
      if ([String(ImageState.Stored), String(ImageState.Failed)].includes(listed.fw3?.State)) break;
    }
    assert.equal(listed.fw3.State, String(ImageState.Stored), JSON.stringify(listed));
    assert.equal(listed.fw3.BytesReceived, String(bytes.length));
    const stored = await readFile(join(gwDir, 'images', 'sha256', sha));
    assert.equal(createHash('sha256').update(stored).digest('hex'), sha);

    // records apart from bytes, in the shared store: a second upload of the same bytes deleted on A leaves B serving the first
    const upload = async (name: string, body: Uint8Array) =>
      (await (
        await fetch(`${b.api}/images?name=${name}&version=3`, {
          method: 'POST',
          headers: { ...AUTH, 'content-type': 'application/octet-stream' },
          body,
        })
      ).json()) as { id: string; sha256: string };
    const copy = await upload('fw-copy', bytes);
    assert.equal(copy.sha256, sha);
    assert.equal((await a.call('DELETE', `/images/${copy.id}`)).status, 204);
    assert.equal((await fetch(`${base}/images/${sha}`, { method: 'HEAD', headers: AUTH })).status, 200);
    // bytes nobody else names go with their last record, on every instance
    const other = await upload('other', randomBytes(1000));
    assert.equal((await a.call('DELETE', `/images/${other.id}`)).status, 204);
    assert.equal((await fetch(`${a.api.replace(/\/api$/, '')}/images/${other.sha256}`, { method: 'HEAD', headers: AUTH })).status, 404);
    assert.deepEqual(
      (await a.call('GET', '/images')).json.items.map((i: { name: string }) => i.name),
      ['fw'],
    );
  } finally {
    for (const p of procs.reverse()) await p.stop();
  }
});

test('instances started together on a fresh database all come up, with one admin whose shown password works on each', async () => {
  const db = await cluster.database();
  const all = await Promise.all(['c1', 'c2', 'c3'].map((n) => startInstance(db, join(dir, n))));
  try {
    const shown = all
      .map((i) => /created the API user "admin" with password (\S+)/.exec(i.proc.stderr)?.[1])
      .filter((p) => p !== undefined);
    assert.equal(shown.length, 1, 'one instance created the admin and showed its password');
    for (const i of all) {
      const users = (await i.call('GET', '/users')).json;
      assert.deepEqual(
        users.items.map((u: { name: string }) => u.name),
        ['admin'],
        JSON.stringify(users),
      );
      const login = await fetch(`${i.api}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'admin', password: shown[0] }),
      });
      assert.equal(login.status, 200, 'the password shown is the one stored');
    }
    const tokens = (await all[0]!.call('GET', '/tokens')).json;
    assert.equal(tokens.items.filter((t: { label: string }) => t.label === 'GWMO_ADMIN_TOKEN').length, 1, JSON.stringify(tokens));
  } finally {
    for (const i of all) await i.proc.stop();
  }
});

test('failed logins count on every instance: tries spread over A and B lock the user out on both', async () => {
  const db = await cluster.database();
  const a = await startInstance(db, join(dir, 'a4'));
  const b = await startInstance(db, join(dir, 'b4'));
  try {
    const login = async (i: typeof a): Promise<number> =>
      (
        await fetch(`${i.api}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'admin', password: 'not-the-password' }),
        })
      ).status;
    // five failures lock a user at an address: three on A, two on B
    for (const i of [a, b, a, b, a]) assert.equal(await login(i), 401);
    assert.equal(await login(b), 429, 'B counts the failures made on A');
    assert.equal(await login(a), 429);
  } finally {
    await b.proc.stop();
    await a.proc.stop();
  }
});
