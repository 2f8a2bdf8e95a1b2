// Users and tokens on PostgreSQL: one set for every server instance sharing the database.
import type { AuthStore, FailureCounts, TokenRow, UserRow } from '../auth.ts';
import { tokenOf, userOf } from '../sqlite/auth.ts';
import { connectError, PgPool } from './pool.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE auth_users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at BIGINT NOT NULL);
   CREATE TABLE auth_tokens (
     id TEXT PRIMARY KEY, user_name TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, role TEXT, secret_hash TEXT NOT NULL,
     created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT, last_used_at BIGINT);
   CREATE INDEX auth_tokens_user ON auth_tokens(user_name);`,
  `CREATE TABLE auth_login_failures (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, first_at BIGINT NOT NULL, locked_until BIGINT NOT NULL);`,
];

export class PgAuthStore implements AuthStore {
  private readonly db: PgPool;

  private constructor(url: string) {
    this.db = new PgPool(url, 3);
  }

  static async open(url: string): Promise<PgAuthStore> {
    const store = new PgAuthStore(url);
    try {
      await store.db.migrate('auth', MIGRATIONS);
    } catch (err) {
      await store.db.close().catch(() => undefined);
      throw (err as { code?: string }).code !== undefined ? connectError(url, err) : err;
    }
    return store;
  }

  async putUser(u: UserRow): Promise<void> {
    await this.db.query(
      'INSERT INTO auth_users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT(name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash',
      [u.name, u.role, u.passwordHash, u.createdAt],
    );
  }

  async addUser(u: UserRow): Promise<boolean> {
    const rows = await this.db.query(
      'INSERT INTO auth_users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT(name) DO NOTHING RETURNING name',
      [u.name, u.role, u.passwordHash, u.createdAt],
    );
    return rows.length === 1;
  }

  async getUser(name: string): Promise<UserRow | undefined> {
    const r = (await this.db.query('SELECT * FROM auth_users WHERE name = $1', [name]))[0];
    return r ? userOf(r) : undefined;
  }

  async listUsers(): Promise<UserRow[]> {
    return (await this.db.query('SELECT * FROM auth_users ORDER BY name')).map(userOf);
  }

  async deleteUser(name: string, now: number): Promise<boolean> {
    return this.db.transaction(async () => {
      await this.db.query('UPDATE auth_tokens SET revoked_at = $1 WHERE user_name = $2 AND revoked_at IS NULL', [now, name]);
      return (await this.db.query('DELETE FROM auth_users WHERE name = $1 RETURNING name', [name])).length > 0;
    });
  }

  async putToken(t: TokenRow): Promise<void> {
    await this.db.query(
      'INSERT INTO auth_tokens (id, user_name, kind, label, role, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [t.id, t.user, t.kind, t.label, t.role ?? null, t.secretHash, t.createdAt, t.expiresAt ?? null],
    );
  }

  async getToken(id: string): Promise<TokenRow | undefined> {
    const r = (await this.db.query('SELECT * FROM auth_tokens WHERE id = $1', [id]))[0];
    return r ? tokenOf(r) : undefined;
  }

  async listTokens(user?: string): Promise<TokenRow[]> {
    const rows =
      user === undefined
        ? await this.db.query('SELECT * FROM auth_tokens ORDER BY created_at')
        : await this.db.query('SELECT * FROM auth_tokens WHERE user_name = $1 ORDER BY created_at', [user]);
    return rows.map(tokenOf);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    return (
      (await this.db.query('UPDATE auth_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id', [now, id])).length >
      0
    );
  }

  async touchToken(id: string, now: number): Promise<void> {
    await this.db.query('UPDATE auth_tokens SET last_used_at = $1 WHERE id = $2', [now, id]);
  }

  async pruneTokens(before: number, limit: number): Promise<number> {
    return (
      await this.db.query(
        `DELETE FROM auth_tokens WHERE id = ANY(ARRAY(SELECT id FROM auth_tokens WHERE expires_at < $1 OR revoked_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)) RETURNING 1`,
        [before, limit],
      )
    ).length;
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    // the lock lasts the transaction; the work's queries join it (AsyncLocalStorage)
    return this.db.transaction(async () => {
      await this.db.query(`SELECT pg_advisory_xact_lock(hashtext('gwmo.auth.first-start'))`);
      return work();
    });
  }

  readonly loginFailures: FailureCounts = {
    add: async (key, now, windowMs) => {
      // ON CONFLICT … SET sees the old row: a window over and not locked starts again at 1
      const r = await this.db.query(
        `INSERT INTO auth_login_failures (key, failures, first_at, locked_until) VALUES ($1, 1, $2, 0)
        ON CONFLICT (key) DO UPDATE SET
          failures = CASE WHEN $2 - auth_login_failures.first_at > $3 AND auth_login_failures.locked_until <= $2 THEN 1 ELSE auth_login_failures.failures + 1 END,
          first_at = CASE WHEN $2 - auth_login_failures.first_at > $3 AND auth_login_failures.locked_until <= $2 THEN $2 ELSE auth_login_failures.first_at END
        RETURNING failures`,
        [key, now, windowMs],
      );
      // old counts go now and then, so an address flood does not grow the table for ever
      if (++this.adds % 100 === 0)
        await this.db.query('DELETE FROM auth_login_failures WHERE first_at < $1 AND locked_until <= $2', [now - windowMs, now]);
      return Number(r[0]!['failures']);
    },
    lock: async (key, until) => {
      await this.db.query('UPDATE auth_login_failures SET locked_until = GREATEST(locked_until, $2) WHERE key = $1', [key, until]);
    },
    lockedUntil: async (keys) => {
      const r = await this.db.query('SELECT COALESCE(MAX(locked_until), 0) AS until FROM auth_login_failures WHERE key = ANY($1)', [keys]);
      return Number(r[0]!['until']);
    },
    get: async (key, now, windowMs) => {
      const r = (await this.db.query('SELECT failures, first_at, locked_until FROM auth_login_failures WHERE key = $1', [key]))[0];
      if (!r || (now - Number(r['first_at']) > windowMs && Number(r['locked_until']) <= now)) return undefined;
      return { failures: Number(r['failures']), lockedUntil: Number(r['locked_until']) };
    },
    clear: async (key) => {
      await this.db.query('DELETE FROM auth_login_failures WHERE key = $1', [key]);
    },
  };

  private adds = 0;

  close(): void {
    void this.db.close();
  }
}
