// Transactions on node:sqlite that never hide the error that ended them.
import type { DatabaseSync } from 'node:sqlite';

/**
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM):
 * a ROLLBACK then fails with "cannot rollback - no transaction is active", which, thrown from a catch
 * block, would replace "database or disk is full" with a message that says nothing.
 */
export function rollbackQuietly(db: DatabaseSync): void {
  if (!db.isTransaction) return;
  try {
    db.exec('ROLLBACK');
  } catch {
    // the caller rethrows the error that ended the transaction
  }
}

/** `run` in one write transaction (BEGIN IMMEDIATE … COMMIT), rolled back on an error, which is rethrown as it was */
export function writeTransaction<T>(db: DatabaseSync, run: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = run();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    rollbackQuietly(db);
    throw err;
  }
}
