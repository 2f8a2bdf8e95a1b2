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
      else assert.deepEqual({ ...read() as object }, { n: 1 });
      other.close();
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
