// `gwmo server` and `gwmo device` as separate processes on loopback, driven through the REST API,
// as the README shows: a notification wakes the device, which completes the queued operations.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { AUTH, GwmoProcess } from '../support/process.ts';

test('server + device processes: queue, notify, session, results; data survives a device restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-roles-'));
  const server = new GwmoProcess(['server', '--port', '0', '--data-dir', dir, '--server-id', 'gwmo-e2e']);
  let device: GwmoProcess | undefined;
  try {
    const started = await server.waitFor((l) => l.event === 'server.started');
    const api = String(started['api']);
    const dm = String(started['dm']);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { ...AUTH, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: (await res.json()) as any };
    };
    const id = 'IMEI:490154203237518';
    const enc = encodeURIComponent(id);
    const account = { deviceId: id, name: 'dev', password: 'dev-pw', serverName: 'gwmo-e2e', serverPassword: 'srv-pw', scheme: 'md5' };
    assert.equal((await call('POST', '/devices', account)).status, 201);

    device = new GwmoProcess([
      'device',
      '--device-id',
      id,
      '--server-url',
      dm,
      '--server-id',
      'gwmo-e2e',
      '--username',
      'dev',
      '--password',
      'dev-pw',
      '--server-password',
      'srv-pw',
      '--encoding',
      'wbxml',
      '--tree',
      join(dir, 'device.db'),
      '--model',
      'E2E-1',
    ]);
    const ready = await device.waitFor((l) => l.event === 'device.started');
    assert.equal((await device.waitFor((l) => l.event === 'session.end'))['end'], 'done', 'the first check-in');
    assert.equal((await call('PATCH', `/devices/${enc}`, { notifyAddress: ready['notify'] })).status, 200);

    const get = await call('POST', `/devices/${enc}/operations`, { kind: 'Get', path: './DevInfo/Mod' });
    const add = await call('POST', `/devices/${enc}/operations`, { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'héllo' });
    const sessionDone = device.next((l) => l.event === 'session.end');
    const notified = await call('POST', `/devices/${enc}/notify`, { uiMode: 1 });
    assert.equal(notified.status, 202, JSON.stringify(notified.json));
    assert.equal((await sessionDone)['end'], 'done');
    const got = await call('GET', `/operations/${get.json.id}`);
    assert.deepEqual([got.json.state, got.json.status, got.json.results[0]?.value], ['done', 200, 'E2E-1']);
    assert.equal((await call('GET', `/operations/${add.json.id}`)).json.status, 200);

    // the device's tree is on disk: after a restart the note is still there
    assert.equal(await device.stop(), 0);
    device = new GwmoProcess([
      'device',
      '--device-id',
      id,
      '--server-url',
      dm,
      '--server-id',
      'gwmo-e2e',
      '--username',
      'dev',
      '--password',
      'dev-pw',
      '--server-password',
      'srv-pw',
      '--tree',
      join(dir, 'device.db'),
      '--once',
    ]);
    const check = await call('POST', `/devices/${enc}/operations`, { kind: 'Get', path: './Vendor/gwmo/Note' });
    await device.waitFor((l) => l.event === 'session.end');
    const note = await call('GET', `/operations/${check.json.id}`);
    assert.deepEqual([note.json.status, note.json.results[0]?.value], [200, 'héllo']);
  } finally {
    await device?.stop();
    assert.equal(await server.stop(), 0, 'the server stops cleanly on SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
});

test('a wrong server password on the device: the notification is ignored, nothing runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-roles-'));
  const server = new GwmoProcess(['server', '--port', '0', '--db', ':memory:']);
  let device: GwmoProcess | undefined;
  try {
    const started = await server.waitFor((l) => l.event === 'server.started');
    const api = String(started['api']);
    const id = 'IMEI:1';
    device = new GwmoProcess([
      'device',
      '--device-id',
      id,
      '--server-url',
      String(started['dm']),
      '--password',
      'p',
      '--server-password',
      'not-it',
      '--tree',
      ':memory:',
    ]);
    const ready = await device.waitFor((l) => l.event === 'device.started');
    const post = (path: string, body: unknown) =>
      fetch(`${api}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { ...AUTH, 'content-type': 'application/json' } });
    await post('/devices', {
      deviceId: id,
      name: 'device',
      password: 'p',
      serverName: 'gwmo',
      serverPassword: 'srv',
      notifyAddress: ready['notify'],
    });
    const ignored = device.next((l) => l.event === 'notification.ignored');
    assert.equal((await post(`/devices/${encodeURIComponent(id)}/notify`, {})).status, 202);
    assert.equal((await ignored)['reason'], 'digest does not verify');
  } finally {
    await device?.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
