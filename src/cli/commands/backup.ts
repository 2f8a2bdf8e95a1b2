// `gwmo backup` and `gwmo restore`; the code that runs them is imported by the actions (../run/backup.ts).
import type { Command } from 'commander';

import type { BackupFlags } from '../run/backup.ts';

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description(
      "copy a SQLite store (the server's server.db; a gateway's gateway.db, south.db, tree.db) to <file>, consistent while the server runs (PostgreSQL: pg_dump, see docs/operations.md)",
    )
    .argument('<file>', 'the backup to write (must not exist)')
    .option('--data-dir <dir>', 'where server.db is kept', './data')
    .option('--db <file>', 'the SQLite file to back up (default <data-dir>/server.db)')
    .action(async (file: string, flags: BackupFlags) => (await import('../run/backup.ts')).runBackup(file, flags));
  program
    .command('restore')
    .description(
      'replace a SQLite store with a backup, after checking it (integrity, store kind, schema version); refused while a gwmo process has the store open; the replaced file is kept beside it',
    )
    .argument('<file>', 'the backup to restore')
    .option('--data-dir <dir>', 'where server.db is kept', './data')
    .option('--db <file>', 'the SQLite file to replace (default <data-dir>/server.db)')
    .action(async (file: string, flags: BackupFlags) => (await import('../run/backup.ts')).runRestore(file, flags));
}
