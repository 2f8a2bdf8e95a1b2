// An API call waits for its operations (ServerService.settle). With a short retention, one that
// finished early can be pruned before the last one ends; its outcome must still be the answer (the
// soak at load 20+ answered 500: "Cannot read properties of undefined (reading 'state')").
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ServerService } from '../../src/server/service.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

test('an operation pruned while the wait goes on for another is answered with the outcome it had', async (t) => {
  let now = 1_000_000;
  const store = new SqliteServerStore(':memory:');
  t.after(() => store.close());
  const service = new ServerService(store, { now: () => now }, 'srv');
  await service.addDevice({ deviceId: 'GW:1', name: 'gw', password: 'pw' });
  const first = await service.queue('GW:1', { kind: 'Add', path: './GwMO/Fanout/f', format: 'node' });
  const last = await service.queue('GW:1', { kind: 'Exec', path: './GwMO/Fanout/f/Operations/Start' });
  const settled = service.settle([first.id, last.id], 10_000);
  await new Promise<void>((resolve) => setImmediate(resolve)); // its first look done, it waits (SQLite answers at once)

  const finish = async (id: string, status: number): Promise<void> => {
    now += 1000;
    service.operationChanged((await store.finishOperation(id, { state: 'done', status }, now))!);
  };
  await finish(first.id, 200);
  // retention (keep 0 s) runs before the gateway answers the last one
  assert.equal(await store.pruneOlder('operations', now + 1, 100), 1);
  assert.equal(await store.getOperation(first.id), undefined);
  await finish(last.id, 202);

  const ops = await settled;
  assert.deepEqual(
    ops.map((o) => [o.id, o.state, o.status]),
    [
      [first.id, 'done', 200],
      [last.id, 'done', 202],
    ],
  );
});
