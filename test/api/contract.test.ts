// API contract: every answer of a realistic session of API calls (a real server with the access
// control, a gateway and devices) has a status its operation documents and a body that matches the
// documented schema.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { securedApi } from '../../src/api/auth/routes.ts';
import { AuthService } from '../../src/api/auth/service.ts';
import { apiRoutes } from '../../src/api/routes.ts';
import { SessionTrace } from '../../src/server/trace.ts';
import { SqliteAuthStore } from '../../src/store/sqlite/auth.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';
import { checkAnswer, templateOf } from '../support/openapi-check.ts';

test('answers match the OpenAPI document: documented statuses, bodies that fit their schemas', async () => {
  const store = new SqliteAuthStore(':memory:');
  const auth = new AuthService(store);
  const imageDir = mkdtempSync(join(tmpdir(), 'gwmo-contract-'));
  const srv = await startServer({ imageDir, trace: new SessionTrace(), routes: (s, g, j, t) => securedApi(auth, apiRoutes(s, g, j, t)) });
  const gw = await startGateway(srv.url);
  const devices = await startDevices(gw.gateway.lanUrl, 2);
  await gw.gateway.checkIn();
  await auth.firstAdmin('admin-password-1');
  const admin = (await auth.issue('admin', 'api', 'contract')).token;
  const api = srv.url.replace(/\/dm$/, '');
  const problems: string[] = [];
  const covered = new Set<string>();
  const call = async (method: string, path: string, expect: number, body?: unknown, o: { token?: string | null; type?: string } = {}) => {
    const token = o.token === undefined ? admin : o.token;
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}) };
    if (body !== undefined) headers['content-type'] = o.type ?? 'application/json';
    const res = await fetch(api + path, {
      method,
      headers,
      ...(body !== undefined ? { body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json = text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined;
    if (res.status !== expect) problems.push(`${method} ${path}: expected ${expect}, got ${res.status} ${text.slice(0, 200)}`);
    problems.push(...checkAnswer(method, path, res.status, json));
    covered.add(`${method} ${templateOf(path)}`);
    return json;
  };
  const gid = encodeURIComponent(GW_ID);
  const dev = encodeURIComponent('IMEI:000000000000000');
  try {
    await call('GET', '/api/openapi.json', 200, undefined, { token: null });
    await call('GET', '/api/devices', 401, undefined, { token: null });
    await call('POST', '/api/login', 200, { name: 'admin', password: 'admin-password-1' }, { token: null });
    await call('POST', '/api/login', 401, { name: 'admin', password: 'not-the-password' }, { token: null });
    await call('GET', '/api/me', 200);
    await call('POST', '/api/devices', 201, {
      deviceId: 'IMEI:C1',
      name: 'c1',
      password: 'c1-pw',
      serverName: 'srv',
      serverPassword: 's-pw',
      scheme: 'md5',
    });
    await call('POST', '/api/devices', 400, { deviceId: 'IMEI:C2' });
    await call('POST', '/api/devices', 409, { deviceId: 'IMEI:C1', name: 'c1', password: 'other-pw' });
    await call('PATCH', '/api/devices/IMEI%3AC1', 200, { password: 'c1-rotated-pw', notifyAddress: '127.0.0.1:40000' });
    await call('PATCH', '/api/devices/IMEI%3AC1', 400, { deviceId: 'IMEI:C3' });
    await call('PATCH', '/api/devices/IMEI%3Anobody', 404, { password: 'x-pw' });
    await call('GET', '/api/devices?limit=5', 200);
    await call('GET', '/api/devices?limit=0', 400);
    await call('GET', '/api/devices/IMEI%3AC1', 200);
    await call('GET', '/api/devices/IMEI%3Anobody', 404);
    const op = await call('POST', '/api/devices/IMEI%3AC1/operations', 201, { kind: 'Get', path: './DevInfo/Mod' });
    await call('POST', '/api/devices/IMEI%3AC1/operations', 400, { kind: 'Get' });
    await call('GET', '/api/devices/IMEI%3AC1/operations', 200);
    await call('GET', `/api/operations/${op.id}`, 200);
    await call('GET', '/api/operations/nothing', 404);
    await call('GET', '/api/devices/IMEI%3AC1/location', 404);
    await call('POST', '/api/devices/IMEI%3AC1/jobs', 404, { commands: [{ kind: 'Get', path: './DevInfo/Mod' }] });
    await call('GET', '/api/jobs/nothing', 404);
    await call('GET', `/api/devices/${dev}/location`, 200);
    const job = await call('POST', `/api/devices/${dev}/jobs`, 202, { commands: [{ kind: 'Get', path: './DevInfo/Mod' }] });
    await call('GET', `/api/jobs/${job.id}?wait=20`, 200);
    await call('GET', '/api/gateways', 200);
    await call('GET', `/api/gateways/${gid}/devices`, 200);
    await call('GET', `/api/gateways/${gid}/devices?status=attached&mode=proxy&protocol=oma-dm&q=IMEI&limit=1&offset=1`, 200);
    await call('GET', `/api/gateways/${gid}/devices?status=gone`, 400);
    await call('GET', `/api/gateways/${gid}/devices/${dev}`, 200);
    await call('PUT', `/api/gateways/${gid}/groups/pair`, 200, { members: ['IMEI:000000000000000', 'IMEI:000000000000001'] });
    await call('GET', `/api/gateways/${gid}/groups`, 200);
    await call('PUT', `/api/gateways/${gid}/config`, 200, { 'Fanout/MaxConcurrency': 2 });
    const config = await call('GET', `/api/gateways/${gid}/config`, 200);
    if (config?.['Fanout/MaxConcurrency'] !== 2 || config?.['InventoryAlerts/Attach'] !== true)
      problems.push(`GET config: ${JSON.stringify(config)}`);
    await call('GET', '/api/gateways/IMEI%3Anobody/config', 404);
    const done = srv.alertOf('resultaggregation');
    await call('POST', `/api/gateways/${gid}/fanouts`, 202, {
      name: 'c',
      groups: ['pair'],
      commands: [{ kind: 'Get', path: './DevInfo/Mod' }],
    });
    await call('POST', `/api/gateways/${gid}/fanouts`, 400, { name: 'x', commands: [] });
    await done;
    await call('GET', `/api/gateways/${gid}/fanouts/c`, 200);
    const events = await fetch(`${api}/api/gateways/${gid}/fanouts/c/events`, { headers: { authorization: `Bearer ${admin}` } });
    if (events.status !== 200 || !events.headers.get('content-type')?.startsWith('text/event-stream'))
      problems.push(`events: ${events.status} ${events.headers.get('content-type')}`);
    if (!/event: done\n/.test(await events.text()))
      problems.push('events: the stream of a finished fanout does not end with its done event');
    problems.push(...checkAnswer('GET', `/api/gateways/${gid}/fanouts/c/events`, events.status, undefined));
    covered.add('GET /api/gateways/{deviceId}/fanouts/{name}/events');
    await call('GET', `/api/gateways/${gid}/fanouts/nosuch/events`, 404);
    const sessions = await call('GET', '/api/sessions?limit=5', 200);
    await call('GET', `/api/sessions/${sessions.items[0].id}/trace`, 200);
    await call('GET', '/api/sessions/nosuch/trace', 404);
    await call('GET', '/api/sessions?limit=0', 400);
    await call('GET', '/api/overview?wait=20', 200);
    await call('GET', '/api/overview?checkIn=0', 400);
    await call('GET', '/api/stats/sessions?minutes=60', 200);
    await call('GET', '/api/stats/sessions?minutes=0', 400);
    await call('GET', `/api/devices/${gid}/alerts?type=urn:oma:at:gwmo:1.0:*&limit=2`, 200);
    await call('GET', '/api/devices/IMEI%3Anobody/alerts', 404);
    const alerts = await call('GET', `/api/alerts?device=${gid}&code=1226&since=2020-01-01T00:00:00Z&limit=1`, 200);
    if (alerts?.items.length !== 1) problems.push("alerts: the gateway's Generic Alerts are not listed");
    await call('GET', `/api/alerts?before=${alerts?.next}`, 200);
    await call('GET', '/api/alerts?since=yesterday', 400);
    const alertEvents = await fetch(`${api}/api/alerts/events?device=${gid}`, {
      headers: { authorization: `Bearer ${admin}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (alertEvents.status !== 200 || !alertEvents.headers.get('content-type')?.startsWith('text/event-stream'))
      problems.push(`alert events: ${alertEvents.status}`);
    problems.push(...checkAnswer('GET', '/api/alerts/events', alertEvents.status, undefined));
    covered.add('GET /api/alerts/events');
    await alertEvents.body?.cancel();
    await call('GET', '/api/alerts/events?until=2020-01-01', 400);
    await call('GET', '/api/lwm2m/objects/3303', 200);
    await call('GET', '/api/lwm2m/objects/65000', 404);
    await call('GET', '/api/lwm2m/objects/x3', 400);
    await call('DELETE', `/api/gateways/${gid}/groups/pair`, 200);
    await call('POST', '/api/images?name=blob&version=1', 201, new Uint8Array(1000).fill(7), { type: 'application/octet-stream' });
    await call('GET', '/api/images', 200);
    const token = await call('POST', '/api/tokens', 201, { label: 'contract', role: 'viewer' });
    await call('GET', '/api/tokens', 200);
    await call('POST', `/api/devices/IMEI%3AC1/operations`, 403, { kind: 'Get', path: './DevInfo/Mod' }, { token: token.token });
    await call('DELETE', `/api/tokens/${token.id}`, 204);
    await call('POST', '/api/users', 201, { name: 'ops', role: 'operator', password: 'ops-password' });
    await call('GET', '/api/users', 200);
    await call('PUT', '/api/users/ops', 200, { role: 'viewer' });
    await call('DELETE', '/api/users/ops', 204);
    await call('DELETE', '/api/devices/IMEI%3AC1', 204);
    assert.deepEqual(problems, []);
    assert.ok(covered.size >= 30, `${covered.size} operations covered`);
  } finally {
    for (const d of devices) await d.stop();
    await gw.close();
    await srv.close();
    store.close();
    rmSync(imageDir, { recursive: true, force: true });
  }
});
