// What a careless call or a hostile API user can no longer do (issue 15, items 2 and 5): each test
// sends the input, checks the status and the message, and counts the rows before and after.
// Actors: `admin`, `operator`, `viewer` (API users with a token each), a gateway GW:0001 with two DM
// devices behind it, and the server's store read directly to prove nothing changed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { securedApi } from '../../src/api/auth/routes.ts';
import { AuthService } from '../../src/api/auth/service.ts';
import { apiRoutes } from '../../src/api/routes.ts';
import type { DeviceRow } from '../../src/store/server.ts';
import { SqliteAuthStore } from '../../src/store/sqlite/auth.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';
import { provisionUsers } from '../support/secured-rig.ts';

const ENROL = 'enrolment-secret-1';
const authStore = new SqliteAuthStore(':memory:');
const auth = new AuthService(authStore);
const logged: { event: string; fields: Record<string, unknown> }[] = [];
const logWaiters: (() => void)[] = [];
let srv: Awaited<ReturnType<typeof startServer>>;
let gw: Awaited<ReturnType<typeof startGateway>>;
let devices: Awaited<ReturnType<typeof startDevices>> = [];
let base = '';
const tokens: Record<string, string> = {};
const G = encodeURIComponent(GW_ID);
const DEV0 = 'IMEI:000000000000000';

async function call(method: string, path: string, body?: unknown, token: string | undefined = tokens['admin']) {
  const headers: Record<string, string> = {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
  };
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let json: { error?: string } & Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { error: text };
  }
  return { status: res.status, json, text };
}

/** the account as the server keeps it, without what every DM session moves (nonces, LastSeen) */
async function account(id: string): Promise<Partial<DeviceRow> | undefined> {
  const d = await srv.store.getDevice(id);
  if (!d) return undefined;
  const { clientNonce: _c, serverNonce: _s, lastSeen: _l, ...rest } = d;
  return rest;
}

const deviceCount = async (): Promise<number> => (await srv.store.listDevices()).length;
const opCount = async (id: string): Promise<number> => (await srv.store.listOperations(id, { limit: 100_000 })).length;

function logLine(event: string, match: (f: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} log line within ${timeoutMs} ms`)), timeoutMs);
    const look = (): void => {
      const hit = logged.find((l) => l.event === event && match(l.fields));
      if (hit) {
        clearTimeout(t);
        resolve(hit.fields);
      } else logWaiters.push(look);
    };
    look();
  });
}

before(async () => {
  const log = (event: string, fields: Record<string, unknown>): void => {
    logged.push({ event, fields });
    logWaiters.splice(0).forEach((w) => w());
  };
  srv = await startServer({ enrolmentSecret: ENROL, routes: (s, g, j) => securedApi(auth, apiRoutes(s, g, j), { log }) });
  base = srv.url.replace(/\/dm$/, '');
  gw = await startGateway(srv.url);
  devices = await startDevices(gw.gateway.lanUrl, 2);
  await gw.gateway.checkIn();
  Object.assign(tokens, await provisionUsers(auth));
});

after(async () => {
  for (const d of devices) await d.stop();
  await gw.close();
  await srv.close();
  authStore.close();
});

test('creating a device with the id of a live gateway answers 409, changes nothing, and the gateway still checks in', async () => {
  const before = await account(GW_ID);
  const count = await deviceCount();
  const r = await call('POST', '/api/devices', { deviceId: GW_ID, name: 'attacker', password: 'attacker-pw' });
  assert.equal(r.status, 409);
  assert.match(r.json.error!, /already has an account; change it with PATCH/);
  assert.deepEqual(await account(GW_ID), before);
  assert.equal(await deviceCount(), count);
  await gw.gateway.checkIn();
  assert.equal(gw.gateway.lastCheckIn?.outcome, 'done', 'the gateway authenticates with its own password still');
});

test('PATCH changes only the fields given, 404 for an unknown id, and the audit line names who and which fields, never a secret', async () => {
  const created = await call('POST', '/api/devices', {
    deviceId: 'IMEI:P1',
    name: 'p1',
    password: 'p1-pw',
    serverName: 'srv',
    serverPassword: 'p1-srv-pw',
    notifyAddress: '127.0.0.1:40001',
  });
  assert.equal(created.status, 201);
  const before = await account('IMEI:P1');
  const r = await call('PATCH', '/api/devices/IMEI%3AP1', { serverPassword: 'rotated-srv-pw', notifyAddress: '127.0.0.1:40002' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json['notifyAddress'], '127.0.0.1:40002');
  assert.deepEqual(await account('IMEI:P1'), { ...before, serverPassword: 'rotated-srv-pw', notifyAddress: '127.0.0.1:40002' });
  const line = await logLine('api.change', (f) => f['method'] === 'PATCH' && f['deviceId'] === 'IMEI:P1');
  assert.equal(line['user'], 'admin');
  assert.equal(typeof line['token'], 'string');
  assert.deepEqual(line['fields'], ['serverPassword', 'notifyAddress']);
  assert.ok(!JSON.stringify(logged).includes('rotated-srv-pw'), 'no secret in the log');

  const cleared = await call('PATCH', '/api/devices/IMEI%3AP1', { notifyAddress: null });
  assert.equal(cleared.status, 200);
  assert.equal((await account('IMEI:P1'))?.notifyAddress, undefined);

  const count = await deviceCount();
  const unknown = await call('PATCH', '/api/devices/IMEI%3Anobody', { password: 'x-pw' });
  assert.equal(unknown.status, 404);
  assert.match(unknown.json.error!, /no device "IMEI:nobody"/);
  assert.equal(await deviceCount(), count, 'PATCH never creates');

  const after = await account('IMEI:P1');
  for (const [body, message] of [
    [{ deviceId: 'IMEI:P2' }, /deviceId cannot be changed/],
    [{ serverName: null }, /cleared together/],
    [{ name: 'bad\nname' }, /name must be printable/],
    [{ scheme: 'sha' }, /scheme must be basic, md5 or hmac/],
    [{ password: 7 }, /password must be a string/],
    [{ password: null }, /password cannot be cleared/],
    [{}, /give at least one of/],
  ] as const) {
    const bad = await call('PATCH', '/api/devices/IMEI%3AP1', body);
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.match(bad.json.error!, message);
  }
  const operator = await call('PATCH', '/api/devices/IMEI%3AP1', { password: 'op-pw' }, tokens['operator']);
  assert.equal(operator.status, 403);
  assert.match(operator.json.error!, /needs the admin role/);
  assert.deepEqual(await account('IMEI:P1'), after);
});

test('creating a user whose name exists answers 409 and keeps the user as it was', async () => {
  const before = await authStore.getUser('operator');
  const count = (await authStore.listUsers()).length;
  const r = await call('POST', '/api/users', { name: 'operator', role: 'admin', password: 'taken-over-password' });
  assert.equal(r.status, 409);
  assert.match(r.json.error!, /user operator exists/);
  assert.deepEqual(await authStore.getUser('operator'), before);
  assert.equal((await authStore.listUsers()).length, count);
});

test('a fanout started with the name of a finished one answers 409 and the finished job keeps its results', async () => {
  const done = srv.alertOf('resultaggregation');
  const first = await call(
    'POST',
    `/api/gateways/${G}/fanouts`,
    { name: 'once', devices: [DEV0], commands: [{ kind: 'Get', path: './DevInfo/Lang' }] },
    tokens['operator'],
  );
  assert.equal(first.status, 202, first.text);
  await done;
  const before = await call('GET', `/api/gateways/${G}/fanouts/once`);
  assert.equal(before.json['State'], '30');
  const jobs = gw.gstore.listJobNames().length;
  const again = await call(
    'POST',
    `/api/gateways/${G}/fanouts`,
    { name: 'once', devices: [DEV0, 'IMEI:000000000000001'], commands: [{ kind: 'Get', path: './DevInfo/Mod' }], timeout: 5 },
    tokens['operator'],
  );
  assert.equal(again.status, 409, again.text);
  assert.match(again.json.error!, /already has a fanout "once"; fanout names are not reused/);
  assert.deepEqual(await call('GET', `/api/gateways/${G}/fanouts/once`), before);
  assert.equal(gw.gstore.listJobNames().length, jobs);
});

test('malformed percent-encoding answers 400 with a message on API and other routes of the server and of the gateway LAN', async () => {
  const count = await deviceCount();
  const lan = gw.gateway.lanUrl.replace(/\/dm$/, '');
  for (const [method, url] of [
    ['GET', `${base}/api/devices/%E0%A4%A`],
    ['GET', `${base}/api/devices?limit=%E0%A4%A`],
    ['PATCH', `${base}/api/devices/%ZZ`],
    ['GET', `${base}/api/gateways/${G}/devices?text=%FF`],
    ['GET', `${base}/push/%E0%A4%A`],
    ['GET', `${base}/images/%E0%A4%A`],
    ['GET', `${base}/metrics?x=%C0%AF`],
    ['POST', `${base}/dm?s=%E0%A4%A`],
    ['GET', `${base}/%E0%A4%A`],
    ['GET', `${lan}/images/%E0%A4%A`],
    ['POST', `${lan}/dm?s=%E0`],
  ] as const) {
    const res = await fetch(url, { method, headers: { authorization: `Bearer ${tokens['admin']}` } });
    assert.equal(res.status, 400, `${method} ${url}`);
    assert.match(await res.text(), /malformed percent-encoding/);
  }
  // in the login cookie: no session (401), not a 500
  const res = await fetch(`${base}/api/devices`, { headers: { cookie: 'gwmo_session=%E0%A4%A' } });
  assert.equal(res.status, 401, await res.text());
  assert.equal(await deviceCount(), count);
});

// newline, NUL, DEL, NEL (C1), a bidi override, a lone surrogate, a trailing space, too long
const BAD_IDS = [
  'IMEI:1\nforged',
  'IMEI:\u00001',
  'IMEI:\u007f1',
  'IMEI:\u00851',
  'IMEI:\u202e1',
  'IMEI:\ud8001',
  'IMEI:1 ',
  'x'.repeat(257),
];

test('ids and names with control characters (or blank ends, or too long) answer 400 at every entry point and change nothing', async () => {
  const count = await deviceCount();
  const gwOps = await opCount(GW_ID);
  const jobs = gw.gstore.listJobNames().length;
  const groups = gw.gstore.listGroups().length;
  const rule = /must be printable|must not start or end with whitespace|must have 1–256 characters/;
  for (const id of BAD_IDS) {
    const what = JSON.stringify(id);
    const create = await call('POST', '/api/devices', { deviceId: id, name: 'n', password: 'p' });
    assert.equal(create.status, 400, what);
    assert.match(create.json.error!, /^deviceId /);
    assert.match(create.json.error!, rule);
    const enrol = await fetch(`${base}/enrol`, { method: 'POST', body: JSON.stringify({ deviceId: id, enrolmentSecret: ENROL }) });
    assert.equal(enrol.status, 400, what);
    assert.match(((await enrol.json()) as { error: string }).error, rule);
    const fanout = await call(
      'POST',
      `/api/gateways/${G}/fanouts`,
      { devices: [DEV0, id], commands: [{ kind: 'Get', path: './DevInfo/Mod' }] },
      tokens['operator'],
    );
    assert.equal(fanout.status, 400, what);
    assert.match(fanout.json.error!, /^devices\[1\] /);
    const group = await call('PUT', `/api/gateways/${G}/groups/g1`, { members: [id] }, tokens['operator']);
    assert.equal(group.status, 400, what);
    assert.match(group.json.error!, /^members\[0\] /);
    // a lone surrogate has no UTF-8 form: in a URL it can only arrive as malformed percent-encoding
    const job = await call(
      'POST',
      `/api/devices/${id.isWellFormed() ? encodeURIComponent(id) : '%ED%A0%80'}/jobs`,
      { commands: [{ kind: 'Get', path: './DevInfo/Mod' }] },
      tokens['operator'],
    );
    assert.equal(job.status, 400, what);
    assert.match(job.json.error!, id.isWellFormed() ? /^deviceId / : /malformed percent-encoding/);
  }
  for (const name of ['bad\nname', 'x'.repeat(129)]) {
    const r = await call('POST', '/api/devices', { deviceId: 'IMEI:N1', name, password: 'p' });
    assert.equal(r.status, 400);
    assert.match(r.json.error!, /^name /);
    const token = await call('POST', '/api/tokens', { label: name });
    assert.equal(token.status, 400);
    assert.match(token.json.error!, /^label /);
  }
  assert.equal(await deviceCount(), count);
  assert.equal(await opCount(GW_ID), gwOps, 'nothing queued on the gateway');
  assert.equal(gw.gstore.listJobNames().length, jobs);
  assert.equal(gw.gstore.listGroups().length, groups);
});

test('an operation whose path is not a DM URI answers 400 and nothing is queued, for operations, device jobs and fanouts', async () => {
  const dev = await call('POST', '/api/devices', { deviceId: 'IMEI:OPS', name: 'ops', password: 'ops-pw' });
  assert.equal(dev.status, 201);
  const ops = await opCount('IMEI:OPS');
  const gwOps = await opCount(GW_ID);
  for (const path of ['/etc/passwd', '../x', './a/../b', './a//b', 'a/', './a?', './a?x=1', './a\nb', 'https://evil.example/x']) {
    const r = await call('POST', '/api/devices/IMEI%3AOPS/operations', { kind: 'Get', path }, tokens['operator']);
    assert.equal(r.status, 400, path);
    assert.match(r.json.error!, /^path ".*" is not a DM URI/s);
    const job = await call(
      'POST',
      `/api/devices/${encodeURIComponent(DEV0)}/jobs`,
      { commands: [{ kind: 'Get', path }] },
      tokens['operator'],
    );
    assert.equal(job.status, 400, path);
    assert.match(job.json.error!, /^commands\[0\]: path ".*" is not a DM URI/s);
    const fanout = await call(
      'POST',
      `/api/gateways/${G}/fanouts`,
      {
        devices: [DEV0],
        commands: [
          { kind: 'Get', path: './DevInfo/Mod' },
          { kind: 'Replace', path, value: 'x' },
        ],
      },
      tokens['operator'],
    );
    assert.equal(fanout.status, 400, path);
    assert.match(fanout.json.error!, /^commands\[1\]: path ".*" is not a DM URI/s);
  }
  const copy = await call(
    'POST',
    '/api/devices/IMEI%3AOPS/operations',
    { kind: 'Copy', path: './Vendor/x', source: '/etc/shadow' },
    tokens['operator'],
  );
  assert.equal(copy.status, 400);
  assert.match(copy.json.error!, /^source "\/etc\/shadow" is not a DM URI/);
  assert.equal(await opCount('IMEI:OPS'), ops);
  assert.equal(await opCount(GW_ID), gwOps);
  // what the spec and docs/lwm2m.md allow still goes through
  for (const path of ['./DevInfo/Mod', 'DevInfo/Mod', '.', './3303/0/5700', './DevInfo?list=Struct', './Vendor/%2Fx']) {
    assert.equal((await call('POST', '/api/devices/IMEI%3AOPS/operations', { kind: 'Get', path }, tokens['operator'])).status, 201, path);
  }
});

test('a viewer asking for an admin token answers 403 and no token is made', async () => {
  const count = (await authStore.listTokens()).length;
  const r = await call('POST', '/api/tokens', { label: 'escalate', role: 'admin' }, tokens['viewer']);
  assert.equal(r.status, 403);
  assert.match(r.json.error!, /a token with the admin role needs that role; viewer has viewer/);
  assert.equal((await authStore.listTokens()).length, count);
  assert.equal((await call('POST', '/api/tokens', { label: 'own', role: 'viewer' }, tokens['viewer'])).status, 201, 'its own role is fine');
});
