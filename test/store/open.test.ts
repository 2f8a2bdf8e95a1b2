import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseDb, redact } from '../../src/store/open.ts';

test('--db: sqlite:<file> and plain paths are SQLite, postgres:// URLs PostgreSQL', () => {
  assert.deepEqual(parseDb('sqlite:./data/server.db'), { kind: 'sqlite', path: './data/server.db' });
  assert.deepEqual(parseDb('sqlite:///var/lib/gwmo.db'), { kind: 'sqlite', path: '/var/lib/gwmo.db' });
  assert.deepEqual(parseDb('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' });
  assert.deepEqual(parseDb(':memory:'), { kind: 'sqlite', path: ':memory:' });
  assert.deepEqual(parseDb('data/server.db'), { kind: 'sqlite', path: 'data/server.db' });
  assert.deepEqual(parseDb('postgres://u:p@db:5432/gwmo'), { kind: 'postgres', url: 'postgres://u:p@db:5432/gwmo' });
  assert.deepEqual(parseDb('postgresql://db/gwmo'), { kind: 'postgres', url: 'postgresql://db/gwmo' });
});

test('--db: a mistake is a message that says what to write', () => {
  assert.throws(() => parseDb(''), /--db is empty/);
  assert.throws(() => parseDb('mysql://db/gwmo'), /mysql:\/\/ is not supported: use sqlite:<file> or postgres:\/\//);
  assert.throws(
    () => parseDb('postgres://u:secret@db:5432'),
    (err: Error) => /names no database/.test(err.message) && !err.message.includes('secret'),
  );
  assert.throws(() => parseDb('sqlite:'), /sqlite: needs a file/);
  assert.equal(redact('postgres://u:secret@db/gwmo'), 'postgres://u:***@db/gwmo');
});
