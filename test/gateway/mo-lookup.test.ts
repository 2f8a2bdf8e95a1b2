// Commands to one fanout job or one stored image find it by name: a gateway keeps every job until
// the server deletes it, and reading all of them for each command made a long soak slow down round
// after round (the gateways' CPU per fanout grew with the jobs behind them).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { GatewayConfig } from '../../src/gateway/config.ts';
import { FanoutRunner, JobState } from '../../src/gateway/fanout.ts';
import { ImageStore } from '../../src/gateway/images.ts';
import { fanoutShape } from '../../src/gateway/mo/fanout.ts';
import { imagesShape } from '../../src/gateway/mo/images.ts';
import { mountOf } from '../../src/gateway/mo/shape.ts';
import { SqliteGatewayStore } from '../../src/store/sqlite/gateway.ts';

/** counts the calls of the store's whole-table reads, which still do their work */
function counting(store: SqliteGatewayStore): Record<'listJobs' | 'listJobNames' | 'listImages', number> {
  const calls = { listJobs: 0, listJobNames: 0, listImages: 0 };
  for (const name of Object.keys(calls) as (keyof typeof calls)[]) {
    const real = store[name].bind(store) as () => unknown;
    (store as unknown as Record<string, () => unknown>)[name] = () => {
      calls[name]++;
      return real();
    };
  }
  return calls;
}

test('a command to one fanout job reads that job, not every job', async () => {
  const store = new SqliteGatewayStore(':memory:');
  for (let i = 0; i < 50; i++) store.putJob({ name: `j${i}`, targets: [], commandsXml: '', state: JobState.Completed, createdAt: i });
  const runner = new FanoutRunner({ store, config: new GatewayConfig(store), driverFor: () => undefined, now: () => 1, alert: () => {} });
  const mount = mountOf(() => fanoutShape(store, runner, () => 1));
  const calls = counting(store);
  try {
    assert.equal((await mount.get(['j7', 'State']))?.value, String(JobState.Completed));
    assert.equal(await mount.get(['nope', 'State']), undefined);
    assert.equal(await mount.add!(['j7'], { format: 'node' }), 418);
    assert.equal(await mount.add!(['j50'], { format: 'node' }), 200);
    assert.equal(await mount.delete!(['j3']), 200);
    assert.deepEqual(calls, { listJobs: 0, listJobNames: 0, listImages: 0 });
    // listing the Fanout node itself names every job, still without reading their records
    const all = await mount.get([]);
    assert.equal(all?.children?.length, 50);
    assert.ok(all?.children?.includes('j50') && !all.children.includes('j3'));
    assert.deepEqual(calls, { listJobs: 0, listJobNames: 1, listImages: 0 });
  } finally {
    store.close();
  }
});

test('a command to one stored image reads that image, not every image', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-mo-lookup-'));
  const store = new SqliteGatewayStore(':memory:');
  try {
    const images = new ImageStore(dir, store, new GatewayConfig(store), () => {});
    const mount = mountOf(() => imagesShape(store, images, () => 1));
    assert.equal(await mount.add!(['fw1'], { format: 'node' }), 200);
    assert.equal(await mount.add!(['fw2'], { format: 'node' }), 200);
    const calls = counting(store);
    assert.equal(await mount.add!(['fw1'], { format: 'node' }), 418);
    assert.equal((await mount.get(['fw2']))?.format, 'node');
    assert.deepEqual(calls, { listJobs: 0, listJobNames: 0, listImages: 0 });
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
