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
  // retention ran on the server: after the restarts (a fleet's churn removes rows of its own), the
  // history rows fell below a level they had reached (the last sample is not enough: on a quiet
  // machine the rounds speed up and the rows rise with them to the end). The gateways pruning the
  // first round's jobs shows in the long run, bench/soak.ts; in 20 s it was not reliably done
  const from = f.rows[0]!.at + (f.rows.at(-1)!.at - f.rows[0]!.at) * 0.35;
  const fell = f.rows.some((r, i) => r.at >= from && f.rows.slice(0, i).some((q) => q.at >= from && q.rows > r.rows));
  assert.ok(fell, `history rows ${f.rows.map((r) => r.rows).join(' ')}: never pruned`);
  const server0 = f.rss.find((s) => s.label === 'server 0')!.samples;
  assert.ok(
    server0.at(-1)!.mb < server0[0]!.mb + 80,
    `instance 0 grew from ${server0[0]!.mb.toFixed(0)} to ${server0.at(-1)!.mb.toFixed(0)} MB`,
  );
});
