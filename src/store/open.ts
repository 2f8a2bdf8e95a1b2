// `--db` in one place: `sqlite:<path>` or a plain path is the embedded SQLite file (the default),
// `postgres://…` (or `postgresql://…`) a PostgreSQL database several server instances can share.
import type { AuthStore } from './auth.ts';
import { PgAuthStore } from './postgres/auth.ts';
import { PgServerStore } from './postgres/server.ts';
import type { ServerStore } from './server.ts';
import { SqliteAuthStore } from './sqlite/auth.ts';
import { SqliteServerStore } from './sqlite/server.ts';

export type DbTarget = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

export class DbUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DbUrlError';
  }
}

export function parseDb(text: string): DbTarget {
  if (text.trim() === '')
    throw new DbUrlError('--db is empty: give a SQLite file (sqlite:./data/server.db) or postgres://user:password@host:5432/database');
  if (/^postgres(ql)?:\/\//i.test(text)) {
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      throw new DbUrlError(`"${redact(text)}" is not a valid URL: postgres://user:password@host:5432/database`);
    }
    if (u.pathname === '' || u.pathname === '/')
      throw new DbUrlError(`"${redact(text)}" names no database: postgres://user:password@host:5432/database`);
    return { kind: 'postgres', url: text };
  }
  if (/^sqlite:/i.test(text)) {
    const path = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new DbUrlError('sqlite: needs a file: sqlite:./data/server.db (or sqlite::memory:)');
    return { kind: 'sqlite', path };
  }
  // a scheme we do not know (mysql://, http://…) is a mistake, not a file name
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1];
  if (scheme) throw new DbUrlError(`--db ${scheme}:// is not supported: use sqlite:<file> or postgres://…`);
  return { kind: 'sqlite', path: text };
}

/** the URL without its password, for logs and messages */
export function redact(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

export interface ServerStores {
  readonly server: ServerStore;
  readonly auth: AuthStore;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
  /** PostgreSQL: connections the server store pools (SQLite: unused) */
  readonly poolSize?: number;
}

export async function openServerStores(target: DbTarget, options: OpenOptions = {}): Promise<ServerStores> {
  if (target.kind === 'sqlite') {
    const server = new SqliteServerStore(target.path);
    const auth = new SqliteAuthStore(target.path);
    return {
      server,
      auth,
      close: async () => {
        await server.close();
        auth.close();
      },
    };
  }
  const server = await PgServerStore.open(target.url, {
    ...(options.log ? { log: options.log } : {}),
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
  });
  const auth = await PgAuthStore.open(target.url).catch(async (err: unknown) => {
    await server.close();
    throw err;
  });
  return {
    server,
    auth,
    close: async () => {
      await server.close();
      auth.close();
    },
  };
}
