// `gwmo server`'s retention settings: checked like every option, and a running server deletes what is
// past them in the background, logging the run at debug and counting it in /metrics.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { runCli } from '../support/cli.ts';
import { GwmoProcess } from '../support/process.ts';

test('server --keep-operations that is not a number ≥ 0: exit 2 and the rule', async () => {
  const r = await runCli(['server', '--port', '0', '--db', 'sqlite::memory:', '--keep-operations', 'soon']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--keep-operations must be a number ≥ 0, got "soon"/);
});

test('a running server deletes finished history past --keep-* and counts it; open operations stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-retention-cli-'));
  const db = join(dir, 'server.db');
  const old = Date.now() - 3 * 86_400_000;
  const store = new SqliteServerStore(db);
  await store.putDevice({ deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: old });
  for (const id of ['done', 'open']) await store.queueOperation({ id, deviceId: 'D', kind: 'Get', target: './x' }, old);
  await store.takeOperations('D', 1, old);
  await store.finishOperation('done', { state: 'done', status: 200 }, old);
  await store.addAlert({ deviceId: 'D', code: 1226, items: [], receivedAt: old });
  await store.close();

  const server = new GwmoProcess(
    ['server', '--port', '0', '--db', db, '--keep-operations', '2', '--retention-every', '0.2', '--log-level', 'debug'],
    [],
    { GWMO_KEEP_ALERTS: '1' },
  );
  try {
    const started = await server.waitFor((l) => l.event === 'server.started');
    const run = await server.waitFor((l) => l.event === 'retention.run' && Object.keys(l['removed'] as object).length > 0);
    assert.deepEqual(run['removed'], { operations: 1, alerts: 1 });
    assert.equal(run['level'], 'debug');
    const metrics = await (await fetch(String(started['dm']).replace(/\/dm$/, '/metrics'))).text();
    assert.match(metrics, /gwmo_retention_pruned_total\{kind="operations"\} 1/);
    assert.match(metrics, /gwmo_retention_pruned_total\{kind="alerts"\} 1/);
  } finally {
    await server.stop();
  }
  const after = new SqliteServerStore(db);
  assert.deepEqual(
    (await after.listOperations('D')).map((o) => o.id),
    ['open'],
  );
  await after.close();
  rmSync(dir, { recursive: true, force: true });
});
