// One pg pool per store, with the transaction of the current batch carried by AsyncLocalStorage:
// a query made while a batch is open runs on the batch's client, any other on the pool.
import { AsyncLocalStorage } from 'node:async_hooks';

import pg from 'pg';

type Param = string | number | boolean | Uint8Array | null | readonly string[];
export type Row = Record<string, unknown>;

interface Tx {
  readonly client: pg.PoolClient;
  /** work started inside the batch that outlives it goes back to the pool */
  done: boolean;
}

// BIGINT (times, sequence numbers) as numbers: they stay below 2^53
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export class PgPool {
  readonly pool: pg.Pool;
  private readonly tx = new AsyncLocalStorage<Tx>();
  private readonly names = new Map<string, string>();

  constructor(url: string, max: number) {
    this.pool = new pg.Pool({ connectionString: url, max, types });
    // an idle client that loses its connection (server restart) is dropped; the next query reconnects
    this.pool.on('error', () => {});
  }

  async query(text: string, params: readonly Param[] = []): Promise<Row[]> {
    const tx = this.tx.getStore();
    const on = tx && !tx.done ? tx.client : this.pool;
    // named: each connection parses and plans a statement once, not on every call
    let name = this.names.get(text);
    if (name === undefined) this.names.set(text, (name = `gwmo${this.names.size}`));
    return (await on.query({ name, text, values: params as unknown[] })).rows as Row[];
  }

  /** Runs `work` in one transaction; work already inside one joins it. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    const open = this.tx.getStore();
    if (open && !open.done) return work();
    const client = await this.pool.connect();
    const tx: Tx = { client, done: false };
    try {
      await client.query('BEGIN');
      const out = await this.tx.run(tx, work);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      tx.done = true;
      client.release();
    }
  }

  /** Runs migrations once across every instance (an advisory lock serialises concurrent starts). */
  async migrate(component: string, migrations: readonly string[]): Promise<void> {
    await this.transaction(async () => {
      await this.query(`SELECT pg_advisory_xact_lock(hashtext('gwmo.migrate'))`);
      await this.query('CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
      const row = (await this.query('SELECT version FROM schema_version WHERE component = $1', [component]))[0];
      let version = row ? Number(row['version']) : 0;
      if (version > migrations.length) throw new Error(`database schema ${component} ${version} is newer than this gwmo (${migrations.length}): upgrade gwmo`);
      const tx = this.tx.getStore()!;
      // several statements in one text: the simple protocol, not a prepared statement
      for (; version < migrations.length; version++) await tx.client.query(migrations[version]!);
      await this.query('INSERT INTO schema_version (component, version) VALUES ($1, $2) ON CONFLICT (component) DO UPDATE SET version = excluded.version', [component, version]);
    });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** A connection failure as something an operator can act on. */
export function connectError(url: string, err: unknown): Error {
  const e = err as { code?: string; message?: string };
  let where = url;
  try {
    const u = new URL(url);
    where = `${u.hostname || 'localhost'}:${u.port || 5432}${u.pathname}`;
  } catch {
    // not a URL: show it as given (without a password, there is no host to parse)
  }
  const hint = e.code === 'ECONNREFUSED' ? 'is PostgreSQL running there? check the host and port in --db'
    : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' ? 'the host name does not resolve: check --db'
      : e.code === '28P01' || e.code === '28000' ? 'the server refused the user or password in --db'
        : e.code === '3D000' ? 'the database does not exist: create it (createdb) or name another in --db'
          : 'check --db';
  return new Error(`cannot use PostgreSQL at ${where}: ${e.message ?? String(err)} (${hint})`);
}
