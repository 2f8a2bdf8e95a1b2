// `gwmo server` serves /metrics on its HTTP port; GWMO_METRICS_TOKEN (or --metrics-token) guards it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GwmoProcess } from '../support/process.ts';
import { scrape } from '../support/metrics.ts';

test('gwmo server: /metrics is open by default', async (t) => {
  const server = new GwmoProcess(['server', '--port', '0', '--db', ':memory:']);
  t.after(() => server.stop());
  const url = String((await server.waitFor((l) => l.event === 'server.started'))['dm']).replace(/\/dm$/, '/metrics');
  const s = await scrape(url);
  assert.equal(s('gwmo_dm_sessions_active', { role: 'server' }), 0);
});

test('gwmo server: a metrics token from the environment is required at /metrics', async (t) => {
  const server = new GwmoProcess(['server', '--port', '0', '--db', ':memory:'], [], { GWMO_METRICS_TOKEN: 'from-env' });
  t.after(() => server.stop());
  const url = String((await server.waitFor((l) => l.event === 'server.started'))['dm']).replace(/\/dm$/, '/metrics');
  assert.equal((await fetch(url)).status, 401);
  const s = await scrape(url, { authorization: 'Bearer from-env' });
  assert.equal(s('gwmo_dm_sessions_started_total', { role: 'server' }) ?? 0, 0);
});
