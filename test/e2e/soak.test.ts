// The short scale-out soak (the long one: npm run bench -- soak): see test/support/soak.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runSoak } from '../support/soak.ts';

test('two server instances on one PostgreSQL, DM and LwM2M gateways, restarts mid-run, retention short: every fanout has one result per device, history stays bounded', async () => {
  const f = await runSoak({
    seconds: 20,
    gateways: 2,
    lwm2mGateways: 1,
    devices: 4,
    keepSeconds: 3,
    retentionEvery: 2,
    imageEvery: 5,
    sampleEvery: 1,
    ...(process.env['GWMO_TEST_LOG'] ? { log: (l: string) => console.error(l) } : {}),
  });
  assert.deepEqual(f.wrong, []);
  assert.deepEqual(f.stagingFailures, []);
  assert.ok(f.stagings >= 2, `${f.stagings} stagings`);
  assert.deepEqual(f.restarts, ['gateway 0', 'fleet of gateway 1 (device churn)', 'server instance 1']);
  assert.ok(f.fanouts >= 9, `${f.fanouts} fanouts`);
  // retention ran on the server: the history rows fell below an earlier sample at least once (without
  // it they only grow). Not "the last sample is below the peak": the rows rise with every round and
  // fall at each pruning, so the last sample can be the peak (it was, once in 14 runs at load 21);
  // the gateways pruning the first round's jobs shows in the long run, bench/soak.ts
  const pruned = f.rows.some((r, i) => f.rows.slice(0, i).some((before) => r.rows < before.rows));
  assert.ok(pruned, `history rows ${f.rows.map((r) => r.rows).join(' ')}: never pruned`);
  const server0 = f.rss.find((s) => s.label === 'server 0')!.samples;
  assert.ok(
    server0.at(-1)!.mb < server0[0]!.mb + 80,
    `instance 0 grew from ${server0[0]!.mb.toFixed(0)} to ${server0.at(-1)!.mb.toFixed(0)} MB`,
  );
});
