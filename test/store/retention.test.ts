// Retention on the server stores: SQLite (a file, as the server runs it) and PostgreSQL (a throw-away cluster).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

import { PgServerStore } from '../../src/store/postgres/server.ts';
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
