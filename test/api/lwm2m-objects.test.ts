// GET /api/lwm2m/objects/{id} over real HTTP: the registry's names and types with gwmo's own
// entries (operations, executables) over them; a bad or unknown id is refused with a message.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startServer } from '../support/gw-pair.ts';

test('an LwM2M object model is served by id: names, types, operations; 400 for a bad id, 404 for an unknown one', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  const api = srv.url.replace(/\/dm$/, '/api');
  const get = async (id: string) => {
    const res = await fetch(`${api}/lwm2m/objects/${id}`);
    return { status: res.status, json: (await res.json()) as any };
  };
  const temp = await get('3303');
  assert.equal(temp.status, 200);
  assert.equal(temp.json.name, 'Temperature');
  assert.equal(temp.json.multiple, true);
  const byId = new Map(temp.json.resources.map((r: { id: number }) => [r.id, r]));
  assert.deepEqual(byId.get(5750), { id: 5750, name: 'Application Type', type: 'string', operations: 'RW', multiple: false });
  assert.deepEqual(byId.get(5605), { id: 5605, name: 'Reset Min and Max Measured Values', type: 'none', operations: 'E', multiple: false });
  // a registry-only object: named and typed, operations unknown
  const location = await get('6');
  assert.equal(location.json.name, 'Location');
  assert.equal(location.json.resources.find((r: { id: number }) => r.id === 0).type, 'float');

  const bad = await get('3x');
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /object id must be 0–65535, not "3x"/);
  assert.equal((await get('70000')).status, 400);
  const unknown = await get('65000');
  assert.equal(unknown.status, 404);
  assert.match(unknown.json.error, /no LwM2M object model for 65000/);
});
