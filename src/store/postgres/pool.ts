// One pg pool per store, with the transaction of the current batch carried by AsyncLocalStorage:
// a query made while a batch is open runs on the batch's client, any other on the pool. Clients
// pipeline (pg's pipeline mode): BEGIN goes out with the batch's first write and the deferred writes
// with COMMIT, so a DM message costs the round trips of its reads, not of every statement. A batch
// whose only write is one deferred statement sends no BEGIN or COMMIT at all: the reads before it
// see what they would see inside (READ COMMITTED: a fresh snapshot per statement either way), and
// a single statement commits atomically on its own. A check-in is then two statements, not four.
// What needs no transaction (reads before a batch writes, a batch's lone write) goes on one more
// connection that all share (see `query`): a batch takes a pooled connection only for a real
// transaction, and a check-in none.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Writable } from 'node:stream';

import pg from 'pg';

import { StoreHealth } from '../health.ts';

type Param = string | number | boolean | Uint8Array | null | readonly string[];
export type Row = Record<string, unknown>;

interface Tx {
  /** the batch's own connection, taken from the pool once it first writes */
  client: Promise<pg.PoolClient> | undefined;
  /** BEGIN, once the batch's first write has gone out (or the batch's end needs it) */
  begun: Promise<unknown> | undefined;
  /** the batch ends with one deferred statement and nothing else written: it goes out alone */
  alone: boolean;
  /** work started inside the batch that outlives it goes back to the pool */
  done: boolean;
  /** writes held until COMMIT (or until a read that must see them), by key */
  readonly deferred: Map<string, Deferred>;
  /** what an earlier statement of the batch established, for a later one to skip a query */
  readonly facts: Set<string>;
}

interface Deferred {
  readonly value: unknown;
  readonly flush: (value: never) => Promise<unknown>;
}

// BIGINT (times, sequence numbers) as numbers: they stay below 2^53
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export class PgPool {
  readonly pool: pg.Pool;
  /** whether PostgreSQL answers: every statement's outcome feeds it */
  readonly health: StoreHealth;
  private readonly tx = new AsyncLocalStorage<Tx>();
  private readonly names = new Map<string, string>();
  private readonly url: string;
  private readonly lockTimeoutMs: number;
  /** the connection statements outside a transaction share, pipelined back to back; made on first use */
  private sharedConnection: Promise<pg.Client> | undefined;
  private closed = false;

  /**
   * `max` pooled connections for transactions; `lockTimeoutMs`: how long a statement on the shared
   * connection waits for a row lock before it fails (5 s: a DM message's transaction lasts milliseconds)
   */
  constructor(url: string, max: number, lockTimeoutMs = 5_000, name = 'postgres') {
    this.url = url;
    this.health = new StoreHealth(name, async () => {
      await this.query('SELECT 1', [], { read: true });
    });
    this.lockTimeoutMs = lockTimeoutMs;
    this.pool = new pg.Pool({ connectionString: url, max, types, pipeline: true });
    // an idle client that loses its connection (server restart) is dropped; the next query reconnects
    this.pool.on('error', () => {});
  }

  private readonly corked = new Set<Writable>();

  /**
   * pg writes each protocol message (Bind, Describe, Execute, Sync) with its own write(2): corked
   * until the event loop's check phase, what a batch sends in one turn (BEGIN and its first
   * statement, the deferred writes and COMMIT) leaves in one. Without it, socket writes were 45 % of
   * a server instance's CPU under `npm run bench -- scale`.
   */
  private cork(client: pg.ClientBase): void {
    const stream = (client as unknown as { connection: { stream: Writable } }).connection.stream;
    if (this.corked.has(stream)) return;
    stream.cork();
    this.corked.add(stream);
    if (this.corked.size === 1) {
      setImmediate(() => {
        for (const s of this.corked) s.uncork();
        this.corked.clear();
      });
    }
  }

  /**
   * A statement; in a batch, anything but a `read` opens its transaction first. A `read` outside a
   * transaction, and a batch's lone write, go on the shared connection: what several DM messages
   * send in one turn of the event loop reaches PostgreSQL in one write and wakes one backend once.
   * Each is a transaction of its own, so that connection never holds a lock between statements and
   * no transaction waits on it: a statement there waiting for a row lock (held by one DM message's
   * transaction, until its COMMIT) delays those behind it, and gives up after `lockTimeoutMs`.
   */
  async query(text: string, params: readonly Param[] = [], options: { read?: boolean } = {}): Promise<Row[]> {
    try {
      const rows = await this.statement(text, params, options);
      // a full disk is over when a write succeeds, not a read
      if (!options.read || this.health.status().state !== 'full') this.health.succeeded();
      return rows;
    } catch (err) {
      this.health.failed(err);
      throw err;
    }
  }

  private async statement(text: string, params: readonly Param[], options: { read?: boolean }): Promise<Row[]> {
    const tx = this.tx.getStore();
    const inTx = tx && !tx.done;
    if (inTx ? !tx.client && (options.read || tx.alone) : options.read) return this.onShared(text, params, options.read === true);
    let on: pg.ClientBase | pg.Pool = this.pool;
    if (inTx) {
      if (!options.read && !tx.alone) this.begin(tx);
      on = await this.clientOf(tx);
      this.cork(on);
    }
    return (await on.query(this.named(text, params))).rows as Row[];
  }

  /** named: each connection parses and plans a statement once, not on every call */
  private named(text: string, params: readonly Param[]): pg.QueryConfig {
    let name = this.names.get(text);
    if (name === undefined) this.names.set(text, (name = `gwmo${this.names.size}`));
    return { name, text, values: params as unknown[] };
  }

  private async onShared(text: string, params: readonly Param[], read: boolean, retried = false): Promise<Row[]> {
    const made = this.shared();
    const client = await made;
    this.cork(client);
    try {
      return (await client.query(this.named(text, params))).rows as Row[];
    } catch (err) {
      // the connection, not the statement, failed (PostgreSQL restarted, the backend was
      // terminated): a read is safe to repeat, once, on a new connection; a write may have committed
      const lost = !(err instanceof pg.DatabaseError) || err.severity === 'FATAL';
      if (!lost) throw err;
      this.dropShared(made, client);
      if (!read || retried) throw err;
      return this.onShared(text, params, read, true);
    }
  }

  private clientOf(tx: Tx): Promise<pg.PoolClient> {
    tx.client ??= this.pool.connect();
    return tx.client;
  }

  private shared(): Promise<pg.Client> {
    if (this.sharedConnection) return this.sharedConnection;
    if (this.closed) throw new Error('the PostgreSQL store is closed');
    const client = new pg.Client({ connectionString: this.url, types, pipeline: true, lock_timeout: this.lockTimeoutMs });
    // a lost connection (PostgreSQL restarted) is dropped: the next statement makes a new one
    const drop = (): void => this.dropShared(made, client);
    client.on('error', drop);
    client.on('end', drop);
    const made = client.connect().then(
      () => client,
      (err: unknown) => {
        drop();
        throw err;
      },
    );
    this.sharedConnection = made;
    return made;
  }

  private dropShared(made: Promise<pg.Client>, client: pg.Client): void {
    if (this.sharedConnection === made) this.sharedConnection = undefined;
    client.end().catch(() => undefined);
  }

  /**
   * Inside a batch: the accumulator kept under `key` until just before COMMIT, when `flush` sends
   * it (several writes to one row become one statement); made by `make` on first use. Outside a
   * batch: undefined, and the caller writes at once. `flush` must send one statement: a batch whose
   * only write it is sends it alone, outside a transaction.
   */
  deferred<T>(key: string, make: () => T, flush: (value: T) => Promise<unknown>): T | undefined {
    const tx = this.tx.getStore();
    if (!tx || tx.done) return undefined;
    let d = tx.deferred.get(key);
    if (!d) tx.deferred.set(key, (d = { value: make(), flush: flush as Deferred['flush'] }));
    return d.value as T;
  }

  /** Facts an earlier statement of the open batch established (empty set outside a batch: nothing is known). */
  facts(): Set<string> {
    const tx = this.tx.getStore();
    return tx && !tx.done ? tx.facts : new Set();
  }

  /** Sends the deferred writes whose key starts with `prefix` now: a read that must see them follows. */
  async flushDeferred(prefix: string): Promise<void> {
    const tx = this.tx.getStore();
    if (!tx || tx.done) return;
    const sent: Promise<unknown>[] = [];
    for (const [key, d] of tx.deferred) {
      if (!key.startsWith(prefix)) continue;
      tx.deferred.delete(key);
      sent.push(d.flush(d.value as never));
    }
    await Promise.all(sent);
  }

  private begin(tx: Tx): void {
    if (tx.begun) return;
    // not awaited here: pipelined, it reaches the server with the statement that needed it
    tx.begun = this.clientOf(tx).then((c) => {
      this.cork(c);
      return c.query('BEGIN');
    });
    tx.begun.catch(() => undefined);
  }

  /** Runs `work` in one transaction; work already inside one joins it. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    const open = this.tx.getStore();
    if (open && !open.done) return work();
    const tx: Tx = { client: undefined, begun: undefined, alone: false, done: false, deferred: new Map(), facts: new Set() };
    try {
      const out = await this.tx.run(tx, work);
      if (!tx.begun && tx.deferred.size === 1) tx.alone = true;
      const flushed = this.tx.run(tx, () => this.flushDeferred(''));
      flushed.catch(() => undefined);
      if (tx.begun) {
        const client = await this.clientOf(tx);
        this.cork(client);
        // COMMIT of a failed transaction answers ROLLBACK without an error: every statement is awaited
        const committed = client.query('COMMIT');
        await Promise.all([tx.begun, flushed, committed]);
      } else {
        await flushed;
      }
      return out;
    } catch (err) {
      this.health.failed(err);
      // a ROLLBACK on a lost connection fails too: the error that matters is the first one
      if (tx.begun)
        await this.clientOf(tx)
          .then((c) => c.query('ROLLBACK'))
          .catch(() => undefined);
      throw err;
    } finally {
      tx.done = true;
      // a client that failed to connect was never handed out: nothing to release
      if (tx.client)
        void tx.client.then(
          (c) => c.release(),
          () => undefined,
        );
    }
  }

  /** Runs migrations once across every instance (an advisory lock serialises concurrent starts). */
  async migrate(component: string, migrations: readonly string[]): Promise<void> {
    await this.transaction(async () => {
      await this.query(`SELECT pg_advisory_xact_lock(hashtext('gwmo.migrate'))`);
      await this.query('CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
      const row = (await this.query('SELECT version FROM schema_version WHERE component = $1', [component]))[0];
      let version = row ? Number(row['version']) : 0;
      if (version > migrations.length)
        throw new Error(`database schema ${component} ${version} is newer than this gwmo (${migrations.length}): upgrade gwmo`);
      const client = await this.clientOf(this.tx.getStore()!);
      // several statements in one text: the simple protocol, not a prepared statement
      for (; version < migrations.length; version++) await client.query(migrations[version]!);
      await this.query(
        'INSERT INTO schema_version (component, version) VALUES ($1, $2) ON CONFLICT (component) DO UPDATE SET version = excluded.version',
        [component, version],
      );
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const shared = this.sharedConnection;
    this.sharedConnection = undefined;
    await shared?.then(
      (c) => c.end(),
      () => undefined,
    );
    await this.pool.end();
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
  const hint =
    e.code === 'ECONNREFUSED'
      ? 'is PostgreSQL running there? check the host and port in --db'
      : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
        ? 'the host name does not resolve: check --db'
        : e.code === '28P01' || e.code === '28000'
          ? 'the server refused the user or password in --db'
          : e.code === '3D000'
            ? 'the database does not exist: create it (createdb) or name another in --db'
            : 'check --db';
  return new Error(`cannot use PostgreSQL at ${where}: ${e.message ?? String(err)} (${hint})`);
}
