// The gateway store's schema changes, numbered in SQLite's user_version: its tables are created if
// missing on every start, so a change here is one an existing file needs (a column a table gained).
// A file from a newer gwmo is refused, as the server's is.
import type { DatabaseSync } from 'node:sqlite';

import { writeTransaction } from './tx.ts';

const hasColumn = (db: DatabaseSync, table: string, column: string): boolean =>
  (db.prepare(`SELECT 1 FROM pragma_table_info('${table}') WHERE name = ?`).all(column) as unknown[]).length > 0;

const UPGRADES: readonly ((db: DatabaseSync) => void)[] = [
  // 1: group mode policy (MOO-001); files from before it have groups without a mode
  (db) => {
    if (!hasColumn(db, 'groups', 'mode')) db.exec('ALTER TABLE groups ADD COLUMN mode INTEGER NOT NULL DEFAULT 0');
  },
  // 2: retention finds finished jobs without parsing every job's record
  (db) => {
    if (hasColumn(db, 'jobs', 'finished_at')) return;
    db.exec(`ALTER TABLE jobs ADD COLUMN finished_at INTEGER;
      UPDATE jobs SET finished_at = json_extract(record, '$.finishedAt');
      CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;`);
  },
];

export const GATEWAY_SCHEMA_VERSION = UPGRADES.length;

/** Brings a gateway file whose tables exist up to this gwmo's schema. */
export function upgradeGatewaySchema(db: DatabaseSync): void {
  let version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  if (version > UPGRADES.length)
    throw new Error(`gateway database schema ${version} is newer than this gwmo (${UPGRADES.length}): upgrade gwmo`);
  for (; version < UPGRADES.length; version++) {
    const next = version + 1;
    writeTransaction(db, () => {
      UPGRADES[version]!(db);
      db.exec(`PRAGMA user_version = ${next}`);
    });
  }
}
