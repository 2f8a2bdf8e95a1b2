// ServerService.settle waits for a run of operations (a gateway run of up to 500 Gets): each change
// looks at its own operation, so a run of n costs about n reads of the store, not n² (bench images).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ServerService } from '../../src/server/service.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

async function setup(n: number) {
  const store = new SqliteServerStore(':memory:');
  const service = new ServerService(store, { now: () => 1_000 }, 'srv');
  await service.addDevice({ deviceId: 'GW:1', name: 'gw', password: 'pw' });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await service.queue('GW:1', { kind: 'Get', path: `./X/${i}` })).id);
  // the real store, its reads counted
  let reads = 0;
  const get = store.getOperation.bind(store);
  store.getOperation = (id: string) => (reads++, get(id));
  const finish = async (id: string, status = 200) => {
    const op = await store.finishOperation(id, { state: 'done', status }, 2_000);
    service.operationChanged(op!);
  };
  return { store, service, ids, finish, reads: () => reads };
}

test('a run of 500 operations ending one by one settles with about 2 reads per operation', async () => {
  const { store, service, ids, finish, reads } = await setup(500);
  try {
    const settled = service.settle(ids, 10_000);
    for (const id of ids) await finish(id);
    const ops = await settled;
    assert.deepEqual(
      ops.map((o) => o.state),
      ids.map(() => 'done'),
    );
    assert.ok(reads() <= 2 * ids.length, `${reads()} reads for ${ids.length} operations`);
  } finally {
    await store.close();
  }
});

test('settle returns at the timeout with what is still open as it is, and after it no waiter is left', async () => {
  const { store, service, ids, finish } = await setup(3);
  try {
    await finish(ids[0]!);
    const settled = service.settle(ids, 200);
    await finish(ids[1]!);
    const ops = await settled;
    assert.deepEqual(
      ops.map((o) => o.state),
      ['done', 'done', 'queued'],
    );
    assert.equal((service as unknown as { waiters: Map<string, unknown> }).waiters.size, 0);
  } finally {
    await store.close();
  }
});

test('operations already ended settle at once', async () => {
  const { store, service, ids, finish } = await setup(2);
  try {
    for (const id of ids) await finish(id, 404);
    const t0 = performance.now();
    const ops = await service.settle(ids, 10_000);
    assert.ok(performance.now() - t0 < 1_000);
    assert.deepEqual(
      ops.map((o) => o.status),
      [404, 404],
    );
  } finally {
    await store.close();
  }
});
