// The API behind authentication and roles, on a real server with a real gateway and devices.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { securedApi } from '../../src/api/auth/routes.ts';
import { AuthService } from '../../src/api/auth/service.ts';
import { openApiDocument } from '../../src/api/openapi.ts';
import { apiRoutes } from '../../src/api/routes.ts';
import { SqliteAuthStore } from '../../src/store/sqlite/auth.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';
import { provisionUsers } from '../support/secured-rig.ts';

const store = new SqliteAuthStore(':memory:');
const auth = new AuthService(store);
let srv: Awaited<ReturnType<typeof startServer>>;
let gw: Awaited<ReturnType<typeof startGateway>>;
let devices: Awaited<ReturnType<typeof startDevices>> = [];
let api = '';
const tokens: Record<string, string> = {};

async function call(
  method: string,
  path: string,
  o: { token?: string | undefined; cookie?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers['authorization'] = `Bearer ${o.token}`;
  if (o.cookie) headers['cookie'] = o.cookie;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${api}${path}`, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

before(async () => {
  srv = await startServer({ routes: (s, g, j) => securedApi(auth, apiRoutes(s, g, j)) });
  api = srv.url.replace(/\/dm$/, '/api');
  gw = await startGateway(srv.url);
  devices = await startDevices(gw.gateway.lanUrl, 2);
  await gw.gateway.checkIn();
  Object.assign(tokens, await provisionUsers(auth));
});

after(async () => {
  for (const d of devices) await d.stop();
  await gw.close();
  await srv.close();
  store.close();
});

test('no credentials: 401 with what to do; the OpenAPI document stays public', async () => {
  const r = await call('GET', '/devices');
  assert.equal(r.status, 401);
  assert.match(r.json.error, /POST \/api\/login|Bearer/);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="gwmo"');
  assert.equal((await call('GET', '/devices', { token: 'gwmo_not-a-token' })).status, 401);
  assert.equal((await call('GET', '/openapi.json')).status, 200);
});

test('a viewer reads but cannot start a fanout; an operator can', async () => {
  const g = encodeURIComponent(GW_ID);
  assert.equal((await call('GET', `/gateways/${g}/devices`, { token: tokens['viewer'] })).status, 200);
  const fanout = {
    name: 'langs',
    devices: ['IMEI:000000000000000', 'IMEI:000000000000001'],
    commands: [{ kind: 'Get', path: './DevInfo/Lang' }],
  };
  const refused = await call('POST', `/gateways/${g}/fanouts`, { token: tokens['viewer'], body: fanout });
  assert.equal(refused.status, 403);
  assert.match(refused.json.error, /needs the operator role; viewer has viewer/);
  const done = srv.alertOf('resultaggregation');
  const started = await call('POST', `/gateways/${g}/fanouts`, { token: tokens['operator'], body: fanout });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  await done;
  // accounts are the admin's: an operator cannot add a device account or change a gateway's config
  assert.equal(
    (await call('POST', '/devices', { token: tokens['operator'], body: { deviceId: 'x', name: 'x', password: 'x' } })).status,
    403,
  );
  assert.equal((await call('PUT', `/gateways/${g}/config`, { token: tokens['operator'], body: {} })).status, 403);
  assert.equal((await call('GET', '/users', { token: tokens['operator'] })).status, 403);
});

test('a revoked token is refused; tokens are stored hashed and can be limited to a lower role', async () => {
  const above = await call('POST', '/tokens', { token: tokens['operator'], body: { label: 'ci', role: 'admin' } });
  assert.equal(above.status, 403, 'a token never has more than its user');
  const made = await call('POST', '/tokens', { token: tokens['operator'], body: { label: 'ci', role: 'operator' } });
  assert.equal(made.status, 201);
  assert.equal(made.json.role, 'operator');
  assert.equal((await call('GET', '/me', { token: made.json.token })).json.role, 'operator');
  const raw = JSON.stringify(await store.listTokens());
  assert.ok(!raw.includes(made.json.token) && !raw.includes(made.json.token.slice(5)), 'no token in clear in the store');
  assert.equal((await call('DELETE', `/tokens/${made.json.id}`, { token: tokens['viewer'] })).status, 404, 'not your token');
  assert.equal((await call('DELETE', `/tokens/${made.json.id}`, { token: made.json.token })).status, 204);
  const after = await call('GET', '/me', { token: made.json.token });
  assert.equal(after.status, 401);
  assert.match(after.json.error, /revoked/);
  const viewerOnly = await call('POST', '/tokens', { token: tokens['admin'], body: { label: 'wall screen', role: 'viewer' } });
  assert.equal(
    (await call('POST', '/devices/x/operations', { token: viewerOnly.json.token, body: { kind: 'Get', path: './DevInfo/Mod' } })).status,
    403,
  );
});

test('login: cookie for the dashboard, same-origin changes only, logout ends it', async () => {
  assert.equal((await call('POST', '/login', { body: { name: 'operator', password: 'wrong-password' } })).status, 401);
  const ok = await call('POST', '/login', { body: { name: 'operator', password: 'operator-password' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.role, 'operator');
  const setCookie = ok.headers.get('set-cookie')!;
  assert.match(setCookie, /^gwmo_session=gwmo_[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  const cookie = setCookie.split(';')[0]!;
  assert.equal((await call('GET', '/me', { cookie })).json.user, 'operator');
  const op = { kind: 'Get', path: './DevInfo/Mod' };
  const host = new URL(api).host;
  const foreign = await call('POST', `/devices/${encodeURIComponent(GW_ID)}/operations`, {
    cookie,
    body: op,
    headers: { origin: 'http://evil.example' },
  });
  assert.equal(foreign.status, 403);
  assert.equal(
    (await call('POST', `/devices/${encodeURIComponent(GW_ID)}/operations`, { cookie, body: op, headers: { origin: `http://${host}` } }))
      .status,
    201,
  );
  assert.equal((await call('POST', '/logout', { cookie, headers: { origin: `http://${host}` } })).status, 204);
  assert.equal((await call('GET', '/me', { cookie })).status, 401);
});

test('failed logins are rate limited: after five, even the right password waits', async () => {
  for (let i = 0; i < 5; i++)
    assert.equal((await call('POST', '/login', { body: { name: 'viewer', password: `guess-${i}-xxxx` } })).status, 401);
  const locked = await call('POST', '/login', { body: { name: 'viewer', password: 'viewer-password' } });
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers.get('retry-after')) >= 1, 'Retry-After says how long');
  assert.equal((await call('GET', '/me', { token: tokens['viewer'] })).status, 200, 'tokens keep working');
});

test('users: the admin manages them; passwords are stored as scrypt hashes; deleting a user revokes their tokens', async () => {
  const bad = await call('POST', '/users', { token: tokens['admin'], body: { name: 'eve', role: 'root', password: 'long-enough-pw' } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /role must be viewer, operator or admin/);
  assert.match(
    (await call('POST', '/users', { token: tokens['admin'], body: { name: 'eve', role: 'viewer', password: 'short' } })).json.error,
    /at least 10/,
  );
  assert.equal(
    (await call('POST', '/users', { token: tokens['admin'], body: { name: 'eve', role: 'viewer', password: 'eve-password' } })).status,
    201,
  );
  const row = await store.getUser('eve');
  assert.match(row!.passwordHash, /^scrypt\$16384\$8\$1\$/);
  assert.ok(!row!.passwordHash.includes('eve-password'));
  const eve = (await auth.issue('eve', 'api', 'eve')).token;
  assert.equal((await call('PUT', '/users/eve', { token: tokens['admin'], body: { role: 'operator' } })).json.role, 'operator');
  assert.equal((await call('GET', '/me', { token: eve })).json.role, 'operator', 'a role change applies to existing tokens');
  assert.equal((await call('DELETE', '/users/admin', { token: tokens['admin'] })).status, 409, 'an admin cannot delete themselves');
  assert.equal((await call('DELETE', '/users/eve', { token: tokens['admin'] })).status, 204);
  assert.equal((await call('GET', '/me', { token: eve })).status, 401);
  assert.deepEqual(
    (await call('GET', '/users', { token: tokens['admin'] })).json.items.map((u: { name: string }) => u.name),
    ['admin', 'operator', 'viewer'],
  );
});

test('every path the OpenAPI document describes is routed behind authentication', async () => {
  for (const [path, ops] of Object.entries(openApiDocument.paths as Record<string, Record<string, unknown>>)) {
    const concrete = path
      .replace('/api', '')
      .replace('{deviceId}', 'IMEI%3A1')
      .replace('{id}', 'x')
      .replace('{endDevice}', 'd')
      .replace('{group}', 'g')
      .replace('{name}', 'nobody')
      .replace('{action}', 'pause');
    for (const m of Object.keys(ops)) {
      if (path === '/api/logout') continue; // would end the admin's token
      if (path.endsWith('/events')) {
        // an event stream stays open: its status and headers are the answer, then it is let go
        const res = await fetch(`${api}${concrete}`, { headers: { authorization: `Bearer ${tokens['admin']}` } });
        const text = res.status === 200 ? (await res.body?.cancel(), '') : await res.text();
        assert.notEqual(res.status, 405, `${m} ${path}`);
        assert.doesNotMatch(text, /no API route/, `${m} ${path}`);
        continue;
      }
      const r = await call(m.toUpperCase(), concrete, { token: tokens['admin'], ...(m === 'get' || m === 'delete' ? {} : { body: {} }) });
      assert.notEqual(r.status, 405, `${m} ${path}`);
      assert.doesNotMatch(String(r.json?.error), /no API route/, `${m} ${path}`);
    }
  }
});
