import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

async function store() {
  const s = new SqliteServerStore(':memory:');
  await s.putDevice({ deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 });
  return s;
}

test('operations are taken oldest first, once, and can be put back', async () => {
  const s = await store();
  for (const id of ['a', 'b', 'c']) await s.queueOperation({ id, deviceId: 'D', kind: 'Get', target: `./${id}` }, 1);
  assert.deepEqual((await s.takeOperations('D', 2, 2)).map((o) => [o.id, o.state]), [['a', 'sent'], ['b', 'sent']]);
  assert.deepEqual((await s.takeOperations('D', 5, 3)).map((o) => o.id), ['c']);
  assert.deepEqual(await s.takeOperations('D', 5, 3), []);
  await s.requeueOperations(['b'], 4);
  assert.deepEqual((await s.takeOperations('D', 5, 5)).map((o) => o.id), ['b']);
  await s.finishOperation('a', { state: 'done', status: 200, results: [{ uri: './a', data: Uint8Array.of(1, 2) }] }, 6);
  assert.deepEqual((await s.getOperation('a'))?.results, [{ uri: './a', data: Uint8Array.of(1, 2) }]);
});

test('batch: one transaction that commits, rolls back on error, and is joined by nested work', async () => {
  const s = await store();
  await s.batch(async () => {
    await s.queueOperation({ id: 'x', deviceId: 'D', kind: 'Get', target: './x' }, 1);
    await s.batch(async () => await s.queueOperation({ id: 'y', deviceId: 'D', kind: 'Get', target: './y' }, 1));
  });
  assert.ok(await s.getOperation('x') && await s.getOperation('y'));
  await assert.rejects(s.batch(async () => {
    await s.queueOperation({ id: 'z', deviceId: 'D', kind: 'Get', target: './z' }, 1);
    throw new Error('boom');
  }), /boom/);
  assert.equal(await s.getOperation('z'), undefined);
  // the store is usable after the rollback; its own multi-statement writes join a batch
  await s.batch(async () => {
    await s.queueOperation({ id: 'w', deviceId: 'D', kind: 'Get', target: './w' }, 1);
    await s.takeOperations('D', 10, 2);
    await s.requeueOperations(['w', 'x'], 3);
  });
  assert.equal((await s.getOperation('w'))?.state, 'queued');
});
