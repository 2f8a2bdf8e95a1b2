// Online backup of a running gateway. Its SQLite files are locked exclusively (for speed), so no other
// process can read them: `gwmo backup` asks the gateway itself. The request is a file in the data
// directory and SIGUSR2 to the pid the gateway wrote there; only who can write that directory and
// signal the gateway (its user, root) can ask. The gateway copies each store with VACUUM INTO on its own
// connection, between transactions, and answers with a file beside the request.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { EventLog } from '../log.ts';

export const PID_FILE = 'gwmo.pid';
export const REQUEST_FILE = 'backup-request.json';
export const answerFile = (id: string): string => `backup-${id}.json`;

/** the gateway's stores by file name, each able to copy itself */
export type BackupSources = Readonly<Record<string, { backupTo(file: string): void }>>;

export interface BackupAnswer {
  readonly ok: boolean;
  readonly error?: string;
}

/** In the gateway: answer backup requests until `stop` is called. */
export function serveBackups(dir: string, sources: BackupSources, log: EventLog): () => void {
  writeFileSync(join(dir, PID_FILE), `${process.pid}\n`);
  const onSignal = (): void => {
    let request: { to?: unknown; id?: unknown };
    try {
      request = JSON.parse(readFileSync(join(dir, REQUEST_FILE), 'utf8')) as typeof request;
    } catch (err) {
      log('backup.failed', { error: `no readable ${REQUEST_FILE}: ${(err as Error).message}` });
      return;
    }
    if (typeof request.to !== 'string' || typeof request.id !== 'string' || !/^[a-z0-9-]{1,64}$/.test(request.id)) {
      log('backup.failed', { error: `${REQUEST_FILE} needs "to" (a path) and "id"` });
      return;
    }
    void copyAll(sources, request.to).then(
      () => {
        writeFileSync(join(dir, answerFile(request.id as string)), JSON.stringify({ ok: true } satisfies BackupAnswer));
        log('backup.done', { to: request.to });
      },
      (err: unknown) => {
        writeFileSync(
          join(dir, answerFile(request.id as string)),
          JSON.stringify({ ok: false, error: (err as Error).message } satisfies BackupAnswer),
        );
        log('backup.failed', { to: request.to, error: (err as Error).message });
      },
    );
  };
  process.on('SIGUSR2', onSignal);
  return () => {
    process.off('SIGUSR2', onSignal);
    rmSync(join(dir, PID_FILE), { force: true });
  };
}

/** every store into `to` (a new directory), whole or not at all */
async function copyAll(sources: BackupSources, to: string): Promise<void> {
  const partial = `${to}.partial-${process.pid}`;
  mkdirSync(partial);
  try {
    for (const [name, store] of Object.entries(sources)) await betweenTransactions(() => store.backupTo(join(partial, name)));
    renameSync(partial, to);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}

/** VACUUM cannot run inside a transaction: a DM message's batch may be open across awaits, so wait for its end */
async function betweenTransactions(copy: () => void): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      copy();
      return;
    } catch (err) {
      if (!/within a transaction/i.test((err as Error).message) || attempt >= 2000) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
