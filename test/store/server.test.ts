import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

function store() {
  const s = new SqliteServerStore(':memory:');
  s.putDevice({ deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 });
  return s;
}

test('operations are taken oldest first, once, and can be put back', () => {
  const s = store();
  for (const id of ['a', 'b', 'c']) s.queueOperation({ id, deviceId: 'D', kind: 'Get', target: `./${id}` }, 1);
  assert.deepEqual(s.takeOperations('D', 2, 2).map((o) => [o.id, o.state]), [['a', 'sent'], ['b', 'sent']]);
  assert.deepEqual(s.takeOperations('D', 5, 3).map((o) => o.id), ['c']);
  assert.deepEqual(s.takeOperations('D', 5, 3), []);
  s.requeueOperations(['b'], 4);
  assert.deepEqual(s.takeOperations('D', 5, 5).map((o) => o.id), ['b']);
  s.finishOperation('a', { state: 'done', status: 200, results: [{ uri: './a', data: Uint8Array.of(1, 2) }] }, 6);
  assert.deepEqual(s.getOperation('a')?.results, [{ uri: './a', data: Uint8Array.of(1, 2) }]);
});

test('batch: one transaction that commits, rolls back on error, and is joined by nested work', async () => {
  const s = store();
  await s.batch(async () => {
    s.queueOperation({ id: 'x', deviceId: 'D', kind: 'Get', target: './x' }, 1);
    await s.batch(async () => s.queueOperation({ id: 'y', deviceId: 'D', kind: 'Get', target: './y' }, 1));
  });
  assert.ok(s.getOperation('x') && s.getOperation('y'));
  await assert.rejects(s.batch(async () => {
    s.queueOperation({ id: 'z', deviceId: 'D', kind: 'Get', target: './z' }, 1);
    throw new Error('boom');
  }), /boom/);
  assert.equal(s.getOperation('z'), undefined);
  // the store is usable after the rollback; its own multi-statement writes join a batch
  await s.batch(async () => {
    s.queueOperation({ id: 'w', deviceId: 'D', kind: 'Get', target: './w' }, 1);
    s.takeOperations('D', 10, 2);
    s.requeueOperations(['w', 'x'], 3);
  });
  assert.equal(s.getOperation('w')?.state, 'queued');
});
