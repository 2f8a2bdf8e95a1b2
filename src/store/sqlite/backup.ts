// Backup and restore of a gwmo SQLite file. A backup is `VACUUM INTO` from a connection of its own:
// one read transaction, so the copy is consistent while the server goes on writing (WAL readers do
// not block writers), and compact. A restore checks the copy (integrity, which store, schema not
// newer than this gwmo) and replaces a file no process has open.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

import { SERVER_SCHEMA_VERSION } from './server.ts';

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

/** which gwmo store a file holds, from its tables */
export type StoreKind = 'server' | 'gateway' | 'tree';

export interface BackupInfo {
  readonly kind: StoreKind;
  /** the server store's schema version (the gateway's and tree's have none: their tables are created if missing) */
  readonly schemaVersion?: number;
  readonly bytes: number;
}

/** Writes a consistent copy of `source` to `target` (which must not exist), while processes keep using `source`. */
export function backupSqlite(source: string, target: string): BackupInfo {
  if (!existsSync(source)) throw new BackupError(`${source} does not exist`);
  if (existsSync(target)) throw new BackupError(`${target} exists: give a new file name (a backup never overwrites)`);
  const tmp = `${target}.partial-${process.pid}`;
  const db = open(source, { readOnly: true });
  try {
    describe(db, source);
    db.prepare('VACUUM INTO ?').run(tmp);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err instanceof BackupError
      ? err
      : new BackupError(`cannot back up ${source}: ${locked(err) ? inUseExclusively(source) : (err as Error).message}`);
  } finally {
    db.close();
  }
  // whole or nothing: a backup cut short never has the name of a good one
  renameSync(tmp, target);
  return check(target);
}

/** What a backup file holds, after PRAGMA integrity_check: throws BackupError when it is not a usable gwmo store. */
export function check(file: string): BackupInfo {
  if (!existsSync(file)) throw new BackupError(`${file} does not exist`);
  let db: DatabaseSync;
  try {
    db = open(file, { readOnly: true });
  } catch (err) {
    throw new BackupError(`${file} is not a SQLite database: ${(err as Error).message}`);
  }
  try {
    const integrity = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
    const problems = integrity.map((r) => r.integrity_check).filter((m) => m !== 'ok');
    if (problems.length > 0) throw new BackupError(`${file} is damaged (integrity_check: ${problems.slice(0, 3).join('; ')})`);
    return {
      ...describe(db, file),
      bytes: Number(
        (db.prepare('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()').get() as { n: number }).n,
      ),
    };
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`${file} is not a usable gwmo database: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Replaces `target` with the backup `source`; `target`'s current content is kept beside it as
 * `<target>.before-restore-<time>`. Refused while a process has `target` open (a running server or
 * gateway), and when the backup is damaged, not a gwmo store, of another kind than `target`, or newer.
 */
export function restoreSqlite(source: string, target: string, now = Date.now()): { info: BackupInfo; kept?: string } {
  const info = check(source);
  if (info.schemaVersion !== undefined && info.schemaVersion > SERVER_SCHEMA_VERSION)
    throw new BackupError(
      `${source} has database schema ${info.schemaVersion}, newer than this gwmo (${SERVER_SCHEMA_VERSION}): restore it with the gwmo that wrote it`,
    );
  let kept: string | undefined;
  if (existsSync(target)) {
    const db = open(target, { readOnly: false });
    try {
      // an exclusive lock is refused while any other connection has the file open, even idle
      db.exec('PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;');
    } catch (err) {
      db.close();
      if (locked(err)) throw new BackupError(`${target} is in use by a running gwmo process: stop it, then restore`);
      throw new BackupError(`cannot open ${target}: ${(err as Error).message}`);
    }
    try {
      const current = describe(db, target);
      if (current.kind !== info.kind)
        throw new BackupError(`${source} is a ${info.kind} store, ${target} a ${current.kind} store: not restored`);
      kept = `${target}.before-restore-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
      db.prepare('VACUUM INTO ?').run(kept);
    } finally {
      db.close();
    }
  }
  const tmp = `${target}.restoring-${process.pid}`;
  const src = open(source, { readOnly: true });
  try {
    src.prepare('VACUUM INTO ?').run(tmp);
  } finally {
    src.close();
  }
  // the old file's WAL would be replayed into the restored one: it goes with the old file
  for (const f of [`${target}-wal`, `${target}-shm`]) rmSync(f, { force: true });
  renameSync(tmp, target);
  return { info, ...(kept ? { kept } : {}) };
}

function open(path: string, { readOnly }: { readOnly: boolean }): DatabaseSync {
  return new DatabaseSync(path, { readOnly, timeout: 0 });
}

function describe(db: DatabaseSync, file: string): { kind: StoreKind; schemaVersion?: number } {
  const tables = new Set(
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
  );
  if (tables.has('operations') && tables.has('devices')) {
    const row = tables.has('schema_version')
      ? (db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined)
      : undefined;
    return { kind: 'server', schemaVersion: Number(row?.version ?? 0) };
  }
  if (tables.has('inventory') && tables.has('jobs')) return { kind: 'gateway' };
  if (tables.has('tree_nodes')) return { kind: 'tree' };
  throw new BackupError(`${file} holds no gwmo store (none of the server's, gateway's or tree's tables)`);
}

const locked = (err: unknown): boolean => /database is locked|SQLITE_BUSY/i.test(String((err as Error).message));
const inUseExclusively = (file: string): string =>
  `${file} is held exclusively by a running gateway (it locks its files for speed): stop the gateway to back it up, or back up its server`;
