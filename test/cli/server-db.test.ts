// `gwmo server --db`: a wrong URL or an unreachable database is one line and an exit code.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runCli } from '../support/cli.ts';

test('server --db with an unsupported scheme: exit 2 and what to write instead', async () => {
  const r = await runCli(['server', '--port', '0', '--db', 'mysql://db/gwmo']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /mysql:\/\/ is not supported: use sqlite:<file> or postgres:\/\//);
});

test('server --db naming a PostgreSQL nobody listens on: exit 1, host and port named, no password shown', async () => {
  const r = await runCli(['server', '--port', '0', '--db', 'postgres://gwmo:s3cret@127.0.0.1:1/gwmo']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot use PostgreSQL at 127\.0\.0\.1:1\/gwmo: .*check the host and port in --db/);
  assert.doesNotMatch(r.stderr, /s3cret/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('server --db-pool that is not a whole number from 1: exit 2 and the range', async () => {
  for (const bad of ['0', '2.5', 'ten']) {
    const r = await runCli(['server', '--port', '0', '--db', 'postgres://gwmo@127.0.0.1:1/gwmo', '--db-pool', bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`--db-pool must be a whole number 1–1000, got "${bad}"`));
  }
});
