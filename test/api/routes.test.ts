// The REST API over real HTTP on loopback: validation, paging, the OpenAPI document.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';

import { apiRoutes } from '../../src/api/routes.ts';
import { openApiDocument } from '../../src/api/openapi.ts';
import { ServerService } from '../../src/server/service.ts';
import { GatewayService } from '../../src/server/gateways.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

let server: Server;
let base = '';
const sent: { bytes: Uint8Array; host: string; port: number }[] = [];
const store = new SqliteServerStore(':memory:');
const service = new ServerService(store, { now: () => 1_700_000_000_000 }, 'gwmo-test', {
  send: async (bytes, host, port) => void sent.push({ bytes, host, port }),
});

before(async () => {
  const routes = apiRoutes(service, new GatewayService(service, store));
  server = createServer((req, res) => {
    void routes(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.close();
  await store.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method,
    ...(body !== undefined
      ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

test('create a device, queue operations, read them back; secrets never shown', async () => {
  const created = await call('POST', '/api/devices', {
    deviceId: 'IMEI:1',
    name: 'd1',
    password: 'p1',
    serverName: 's',
    serverPassword: 'sp',
    notifyAddress: '127.0.0.1:40000',
  });
  assert.equal(created.status, 201);
  assert.equal(created.json.deviceId, 'IMEI:1');
  assert.ok(!JSON.stringify(created.json).includes('p1') && !JSON.stringify(created.json).includes('sp"'));
  const op = await call('POST', '/api/devices/IMEI%3A1/operations', {
    kind: 'Replace',
    path: './Vendor/Blob',
    value: 'AAEC',
    format: 'b64',
  });
  assert.equal(op.status, 201);
  assert.equal(op.json.state, 'queued');
  assert.deepEqual(op.json.value, { base64: 'AAEC', format: 'b64' });
  const one = await call('GET', `/api/operations/${op.json.id}`);
  assert.equal(one.json.id, op.json.id);
  const list = await call('GET', '/api/devices/IMEI%3A1/operations?limit=10');
  assert.equal(list.json.items.length, 1);
  const devices = await call('GET', '/api/devices');
  assert.deepEqual(
    devices.json.items.map((d: { deviceId: string }) => d.deviceId),
    ['IMEI:1'],
  );
});

test('notify sends a Package#0 to the device address', async () => {
  const r = await call('POST', '/api/devices/IMEI%3A1/notify', { uiMode: 1 });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  assert.equal(sent.length, 1);
  assert.deepEqual([sent[0]!.host, sent[0]!.port], ['127.0.0.1', 40000]);
  assert.equal(r.json.bytes, sent[0]!.bytes.length);
});

test('bad input gets a 4xx with a message that says what is wrong', async () => {
  const cases: [string, string, unknown, number, RegExp][] = [
    ['POST', '/api/devices', '{not json', 400, /not JSON/],
    ['POST', '/api/devices', { name: 'x', password: 'y' }, 400, /deviceId/],
    ['POST', '/api/devices', { deviceId: 'a', name: 'x', password: 'y', scheme: 'sha' }, 400, /scheme/],
    ['POST', '/api/devices', { deviceId: 'a', name: 'x', password: 'y', notifyAddress: 'nowhere' }, 400, /host:port/],
    ['POST', '/api/devices/IMEI%3A1/operations', { kind: 'Frobnicate', path: './x' }, 400, /kind/],
    ['POST', '/api/devices/IMEI%3A1/operations', { kind: 'Get' }, 400, /path/],
    ['POST', '/api/devices/IMEI%3A1/operations', { kind: 'Replace', path: './x' }, 400, /value/],
    ['POST', '/api/devices/IMEI%3A1/operations', { kind: 'Get', path: 7 }, 400, /path must be a string/],
    ['POST', '/api/devices/IMEI%3A1/operations', { kind: 'Add', path: './x', value: '*', format: 'b64' }, 400, /base64/],
    ['POST', '/api/devices/IMEI%3A9/operations', { kind: 'Get', path: './x' }, 404, /no device/],
    ['GET', '/api/operations/nope', undefined, 404, /no operation/],
    ['GET', '/api/devices?limit=0', undefined, 400, /limit/],
    ['PUT', '/api/devices', undefined, 405, /not allowed/],
    ['GET', '/api/nothing', undefined, 404, /openapi/],
  ];
  for (const [method, path, body, status, message] of cases) {
    const r = await call(method, path, body);
    assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}`);
    assert.match(r.json.error, message);
  }
  const noAddress = await call('POST', '/api/devices', { deviceId: 'IMEI:2', name: 'd2', password: 'p2' });
  assert.equal(noAddress.status, 201);
  const r = await call('POST', '/api/devices/IMEI%3A2/notify');
  assert.equal(r.status, 409);
});

test('the OpenAPI document describes every route and is served', async () => {
  const r = await call('GET', '/api/openapi.json');
  assert.equal(r.status, 200);
  assert.equal(r.json.openapi, '3.0.3');
  assert.deepEqual(Object.keys(r.json.paths).sort(), Object.keys(openApiDocument.paths).sort());
  for (const path of Object.keys(openApiDocument.paths)) {
    const concrete = path
      .replace('{deviceId}', 'IMEI%3A1')
      .replace('{id}', 'x')
      .replace('{endDevice}', 'd')
      .replace('{group}', 'g')
      .replace('{name}', 'n');
    const methods = Object.keys((openApiDocument.paths as Record<string, object>)[path]!);
    for (const m of methods) {
      const res = await fetch(base + concrete, {
        method: m.toUpperCase(),
        ...(m === 'post' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
      });
      assert.notEqual(res.status, 405, `${m} ${path} is routed`);
      // an event stream does not end on its own
      if (res.headers.get('content-type')?.startsWith('text/event-stream')) await res.body?.cancel();
      else await res.arrayBuffer();
    }
  }
});
