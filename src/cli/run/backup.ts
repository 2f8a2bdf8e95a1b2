// `gwmo backup` / `gwmo restore`: loaded only when one of them runs.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { parseDb } from '../../store/open.ts';
import { BackupError, backupSqlite, check, restoreSqlite } from '../../store/sqlite/backup.ts';
import { CliError } from '../cli-error.ts';
import { answerFile, type BackupAnswer, PID_FILE, REQUEST_FILE } from './backup-signal.ts';

/** a gateway's data directory holds these; its backup is a directory with the same files */
const GATEWAY_FILES = ['gateway.db', 'south.db', 'tree.db'] as const;

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

const isGatewayDir = (flags: BackupFlags): boolean => !flags.db && existsSync(join(flags.dataDir, 'gateway.db'));

export async function runBackup(file: string, flags: BackupFlags): Promise<void> {
  if (isGatewayDir(flags)) return backupGateway(flags.dataDir, file);
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
  if (!flags.db && existsSync(file) && statSync(file).isDirectory()) return restoreGateway(file, flags.dataDir);
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

/** A gateway's three files into the directory `out`: asked of the gateway when it runs (it holds them locked), copied when it does not. */
async function backupGateway(dir: string, out: string): Promise<void> {
  if (existsSync(out)) throw new CliError(`${out} exists: give a new name (a backup never overwrites)`, 1);
  const pid = runningGateway(dir);
  try {
    if (pid !== undefined) await askGateway(dir, pid, resolve(out));
    else {
      const partial = `${out}.partial-${process.pid}`;
      mkdirSync(partial, { recursive: true });
      try {
        for (const f of GATEWAY_FILES) if (existsSync(join(dir, f))) backupSqlite(join(dir, f), join(partial, f));
      } catch (err) {
        rmSync(partial, { recursive: true, force: true });
        throw err;
      }
      renameSync(partial, out);
    }
    const kinds = GATEWAY_FILES.filter((f) => existsSync(join(out, f))).map((f) => `${f} (${check(join(out, f)).kind})`);
    process.stdout.write(`backed up the gateway in ${dir} to ${out}${pid !== undefined ? ' while it ran' : ''}: ${kinds.join(', ')}\n`);
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message, 1);
    throw err;
  }
}

/** the pid of a gateway running on `dir`, from the file it wrote there (a pid reused by another program is not signalled) */
function runningGateway(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, PID_FILE), 'utf8').trim());
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    throw new CliError(`cannot tell whether process ${pid} (${join(dir, PID_FILE)}) is the gateway: stop the gateway and back up again`, 1);
  }
  return /gwmo|main\.ts/.test(cmdline) && cmdline.includes('gateway') ? pid : undefined;
}

async function askGateway(dir: string, pid: number, to: string): Promise<void> {
  const id = `${process.pid}-${Date.now()}`;
  const answer = join(dir, answerFile(id));
  writeFileSync(join(dir, REQUEST_FILE), JSON.stringify({ to, id }));
  process.kill(pid, 'SIGUSR2');
  try {
    for (const deadline = Date.now() + 120_000; !existsSync(answer); ) {
      if (Date.now() > deadline)
        throw new CliError(`the gateway (pid ${pid}) did not answer the backup request within 120 s; see its log`, 1);
      await new Promise((r) => setTimeout(r, 50));
    }
    const a = JSON.parse(readFileSync(answer, 'utf8')) as BackupAnswer;
    if (!a.ok) throw new CliError(`the gateway could not back up: ${a.error}`, 1);
  } finally {
    rmSync(answer, { force: true });
    rmSync(join(dir, REQUEST_FILE), { force: true });
  }
}

/** Each of the three files, all checked before any is replaced; refused while the gateway runs. */
async function restoreGateway(from: string, dir: string): Promise<void> {
  try {
    const present = GATEWAY_FILES.filter((f) => existsSync(join(from, f)));
    if (!present.includes('gateway.db')) throw new BackupError(`${from} is not a gateway backup: it has no gateway.db`);
    for (const f of present) check(join(from, f));
    if (runningGateway(dir) !== undefined) throw new BackupError(`the gateway on ${dir} is running: stop it, then restore`);
    mkdirSync(dir, { recursive: true });
    const kept: string[] = [];
    for (const f of present) {
      const r = restoreSqlite(join(from, f), join(dir, f));
      if (r.kept) kept.push(r.kept);
    }
    process.stdout.write(
      `restored the gateway backup ${from} to ${dir}: ${present.join(', ')}${kept.length ? `; the replaced files are kept as ${kept.join(', ')}` : ''}\n`,
    );
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message, 1);
    throw err;
  }
}
