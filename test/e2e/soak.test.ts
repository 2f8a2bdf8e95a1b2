// The short scale-out soak (the long one: node scripts/soak.ts): see test/support/soak.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runSoak } from '../support/soak.ts';

test('two server instances on one PostgreSQL, gateways and devices restarted mid-run: every fanout has one result per device, memory stays flat', async () => {
  const f = await runSoak({
    seconds: 20,
    gateways: 2,
    devices: 4,
    ...(process.env['GWMO_TEST_LOG'] ? { log: (l: string) => console.error(l) } : {}),
  });
  assert.deepEqual(f.wrong, []);
  assert.deepEqual(f.restarts, ['gateway 0', 'fleet of gateway 1 (device churn)', 'server instance 1']);
  assert.ok(f.fanouts >= 8, `${f.fanouts} fanouts`);
  assert.ok(f.rssLastMb < f.rssFirstMb + 60, `instance 0 grew from ${f.rssFirstMb.toFixed(0)} to ${f.rssLastMb.toFixed(0)} MB`);
});
