import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { serverStoreContract } from './server-contract.ts';

serverStoreContract('sqlite', async () => new SqliteServerStore(':memory:'));

const files: string[] = [];
serverStoreContract('sqlite file, exclusive', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-store-'));
  files.push(dir);
  return new SqliteServerStore(join(dir, 'server.db'), { exclusive: true });
});
test.after(() => files.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('an exclusive store keeps its file to itself; a shared one lets another connection in', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-store-'));
  try {
    for (const exclusive of [true, false]) {
      const path = join(dir, `${exclusive}.db`);
      const store = new SqliteServerStore(path, { exclusive });
      await store.putDevice({ deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 });
      const other = new DatabaseSync(path);
      other.exec('PRAGMA busy_timeout = 0');
      const read = (): unknown => other.prepare('SELECT count(*) AS n FROM devices').get();
      if (exclusive) assert.throws(read, /locked/);
      else assert.deepEqual({ ...(read() as object) }, { n: 1 });
      other.close();
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file store checkpoints its WAL every 10,000 pages, not every 1,000', async () => {
  const { statSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-store-'));
  try {
    const path = join(dir, 'server.db');
    const store = new SqliteServerStore(path);
    await store.putDevice({ deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 });
    // ~8 MB in 100 commits: past SQLite's default of 1,000 pages (4 MB), short of 10,000
    for (let i = 0; i < 100; i++)
      await store.queueOperation({ id: `o${i}`, deviceId: 'D', kind: 'Replace', target: './x', data: 'x'.repeat(80_000) }, 1);
    assert.ok(statSync(`${path}-wal`).size > 6_000_000, `WAL of ${statSync(`${path}-wal`).size} bytes: it was checkpointed early`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('queueing and finishing commit before they return: another connection sees them at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-store-'));
  try {
    const path = join(dir, 'server.db');
    const store = new SqliteServerStore(path);
    await store.putDevice({ deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 });
    const other = new DatabaseSync(path);
    const state = (): unknown =>
      (other.prepare('SELECT state FROM operations WHERE id = ?').get('o1') as { state?: string } | undefined)?.state;
    await store.queueOperation({ id: 'o1', deviceId: 'D', kind: 'Get', target: './x' }, 1);
    assert.equal(state(), 'queued');
    await store.finishOperation('o1', { state: 'done', status: 200 }, 2);
    assert.equal(state(), 'done');
    other.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('operations queued one after another leave no statement open: the WAL is checkpointed and reused', async () => {
  const { statSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-store-'));
  try {
    const path = join(dir, 'server.db');
    const store = new SqliteServerStore(path, { walCheckpointPages: 100 });
    await store.putDevice({ deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 });
    for (let i = 0; i < 100; i++)
      await store.queueOperation({ id: `o${i}`, deviceId: 'D', kind: 'Replace', target: './x', data: 'x'.repeat(20_000) }, 1);
    // 2 MB written; a WAL of 100 pages (400 KB) reused after each checkpoint stays well under 1 MB
    assert.ok(statSync(`${path}-wal`).size < 1_000_000, `WAL of ${statSync(`${path}-wal`).size} bytes: never checkpointed`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
