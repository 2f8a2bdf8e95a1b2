// `gwmo backup` / `gwmo restore`: loaded only when one of them runs.
import { join } from 'node:path';

import { parseDb } from '../../store/open.ts';
import { BackupError, backupSqlite, restoreSqlite } from '../../store/sqlite/backup.ts';
import { CliError } from '../cli-error.ts';

export interface BackupFlags {
  readonly dataDir: string;
  readonly db?: string;
}

function sqliteFile(flags: BackupFlags): string {
  if (!flags.db) return join(flags.dataDir, 'server.db');
  const target = parseDb(flags.db);
  if (target.kind === 'postgres')
    throw new CliError('--db is PostgreSQL: back it up with pg_dump and restore with pg_restore (docs/operations.md)');
  if (target.path === ':memory:') throw new CliError('--db :memory: keeps nothing to back up');
  return target.path;
}

export async function runBackup(file: string, flags: BackupFlags): Promise<void> {
  const source = sqliteFile(flags);
  try {
    const info = backupSqlite(source, file);
    process.stdout.write(
      `backed up ${source} to ${file}: ${info.kind} store${info.schemaVersion !== undefined ? `, schema ${info.schemaVersion}` : ''}, ${info.bytes} bytes\n`,
    );
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message, 1);
    throw err;
  }
}

export async function runRestore(file: string, flags: BackupFlags): Promise<void> {
  const target = sqliteFile(flags);
  try {
    const { info, kept } = restoreSqlite(file, target);
    process.stdout.write(
      `restored ${file} to ${target}: ${info.kind} store${info.schemaVersion !== undefined ? `, schema ${info.schemaVersion}` : ''}${kept ? `; the replaced file is kept as ${kept}` : ''}\n`,
    );
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message, 1);
    throw err;
  }
}
