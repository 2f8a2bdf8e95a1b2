// Retention on the server stores: SQLite (a file, as the server runs it) and PostgreSQL (a throw-away cluster).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Pruner, storeSteps, tokenStep } from '../../src/server/retention.ts';
import type { AuthStore } from '../../src/store/auth.ts';
import { PgAuthStore } from '../../src/store/postgres/auth.ts';
import { PgServerStore } from '../../src/store/postgres/server.ts';
import { SqliteAuthStore } from '../../src/store/sqlite/auth.ts';
import { SqliteGatewayStore } from '../../src/store/sqlite/gateway.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { type PgCluster, startPostgres } from '../support/postgres.ts';
import { retentionContract } from './retention-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'gwmo-retention-'));
let files = 0;
let cluster: PgCluster;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

retentionContract('sqlite', async () => new SqliteServerStore(join(dir, `s${files++}.db`)));
retentionContract('postgres', async () => PgServerStore.open(await cluster.database()));

for (const [backend, open] of [
  ['sqlite', async () => new SqliteAuthStore(join(dir, `a${files++}.db`))],
  ['postgres', async () => PgAuthStore.open(await cluster.database())],
] as const)
  test(`${backend}: API tokens go 30 days after they expired or were revoked; live ones and ones without expiry stay`, async () => {
    const auth: AuthStore = await open();
    const DAY = 86_400_000;
    const now = 100 * DAY;
    const token = (id: string, more: { expiresAt?: number }) =>
      auth.putToken({ id, user: 'admin', kind: 'login', label: id, secretHash: 'h', createdAt: 0, ...more });
    try {
      await token('expired-long-ago', { expiresAt: now - 31 * DAY });
      await token('revoked-long-ago', {});
      await auth.revokeToken('revoked-long-ago', now - 40 * DAY);
      await token('expired-lately', { expiresAt: now - DAY });
      await token('live', { expiresAt: now + DAY });
      await token('no-expiry', {});
      const pruner = new Pruner({ steps: [tokenStep(auth, () => 30)], intervalMs: 0, now: () => now });
      assert.deepEqual(await pruner.runOnce(), { tokens: 2 });
      assert.deepEqual((await auth.listTokens()).map((t) => t.id).sort(), ['expired-lately', 'live', 'no-expiry']);
    } finally {
      auth.close();
    }
  });

test('postgres: two instances pruning one database at once delete each row once, and neither fails', async () => {
  const url = await cluster.database();
  const [a, b] = await Promise.all([PgServerStore.open(url), PgServerStore.open(url)]);
  try {
    await a.putDevice({ deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 });
    await a.batch(async () => {
      for (let i = 0; i < 300; i++) await a.addAlert({ deviceId: 'D', code: 1226, items: [], receivedAt: 1 });
    });
    const retention = {
      operations: { days: 0 },
      alerts: { days: 1, perDevice: 10 },
      deviceJobs: { days: 0 },
    };
    const pruner = (s: PgServerStore) =>
      new Pruner({ steps: storeSteps(s, () => retention, 20), intervalMs: 0, now: () => 10 * 86_400_000 });
    const [ra, rb] = await Promise.all([pruner(a).runOnce(), pruner(b).runOnce()]);
    assert.equal((ra['alerts'] ?? 0) + (rb['alerts'] ?? 0), 300, 'every row deleted by one of them, none counted twice');
    assert.deepEqual(await a.listAlerts('D'), []);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a gateway store written before retention gets its finished jobs found on open (finished_at from each record)', () => {
  const path = join(dir, `g${files++}.db`);
  const old = new DatabaseSync(path);
  old.exec('CREATE TABLE jobs (name TEXT PRIMARY KEY, record TEXT NOT NULL)');
  const insert = old.prepare('INSERT INTO jobs (name, record) VALUES (?, ?)');
  insert.run('done', JSON.stringify({ name: 'done', targets: [], commandsXml: '', state: 30, createdAt: 1, finishedAt: 5 }));
  insert.run('running', JSON.stringify({ name: 'running', targets: [], commandsXml: '', state: 20, createdAt: 1 }));
  old.close();
  const store = new SqliteGatewayStore(path);
  try {
    assert.deepEqual(store.prunableJobs(10, 0, 10, 100), ['done']);
    assert.deepEqual(store.prunableJobs(4, 0, 4, 100), [], 'finished after the cut-off: kept');
  } finally {
    store.close();
  }
  new SqliteGatewayStore(path).close(); // opened again: nothing to add
});
