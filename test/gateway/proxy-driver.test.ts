// The proxy driver against a real LAN-side store, with a device that answers as soon as it is woken.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { DriverContext } from '../../src/adapters/driver.ts';
import { ProxyDriver } from '../../src/gateway/proxy-driver.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

test('a fanout reads no operation history; a resumed job finds its finished attempt and does not run it again', async () => {
  const south = new SqliteServerStore(':memory:');
  await south.putDevice({ deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 });
  let driver: ProxyDriver | undefined;
  let sessions = 0;
  // what the LAN-side DM server does when the woken device runs its session: take, answer, file
  const wake = async (deviceId: string): Promise<boolean> => {
    sessions++;
    for (const op of await south.takeOperations(deviceId, 10, 2)) {
      driver!.operationChanged(
        (await south.finishOperation(op.id, { state: 'done', status: 200, results: [{ uri: op.target, data: `v${op.target}` }] }, 3))!,
      );
    }
    return true;
  };
  driver = new ProxyDriver(south, wake, () => 1);
  let historyReads = 0;
  const list = south.listOperations.bind(south);
  south.listOperations = async (...args) => {
    historyReads++;
    return list(...args);
  };
  const ctx = (key: string): DriverContext => ({ key, timeoutMs: 2000, retries: 0, cancelled: () => false });
  const get = (target: string) => ({ kind: 'Get' as const, target });

  assert.deepEqual(await driver.execute('D', [get('./a'), get('./b')], ctx('job1/D')), [
    { status: 200, data: 'v./a' },
    { status: 200, data: 'v./b' },
  ]);
  assert.deepEqual(await driver.execute('D', [get('./c')], ctx('job2/D')), [{ status: 200, data: 'v./c' }]);
  assert.equal(historyReads, 0, 'no earlier attempt: the history is not read');

  // job1 again, as after a gateway restart: its attempt is done, nothing is queued twice
  assert.deepEqual(await driver.execute('D', [get('./a'), get('./b')], ctx('job1/D')), [
    { status: 200, data: 'v./a' },
    { status: 200, data: 'v./b' },
  ]);
  assert.equal((await list('D')).length, 3);
  assert.equal(sessions, 3);
  await south.close();
});

test('a job waiting for a device the server says left stops at once: the Exec it took is in doubt, the rest cancelled unsent, nothing retried', {
  timeout: 10_000,
}, async () => {
  const south = new SqliteServerStore(':memory:');
  await south.putDevice({ deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 });
  let driver: ProxyDriver | undefined;
  // the device takes the first command and is gone before it answers; the server then says it left
  const wake = async (deviceId: string): Promise<boolean> => {
    await south.takeOperations(deviceId, 1, 2);
    setImmediate(() => driver!.leave(deviceId));
    return true;
  };
  driver = new ProxyDriver(south, wake, () => 1);
  const results = await driver.execute(
    'D',
    [
      { kind: 'Exec', target: './FUMO/DownloadAndUpdate' },
      { kind: 'Replace', target: './a', data: 'x' },
    ],
    // a minute to wait and two retries: only the server's word ends it this soon
    { key: 'job/D', timeoutMs: 60_000, retries: 2, cancelled: () => false },
  );
  assert.deepEqual(results, [{ status: 408, inDoubt: true }, { status: 408 }]);
  assert.equal((await south.listOperations('D')).length, 2, 'no second attempt was queued');
  await south.close();
});
