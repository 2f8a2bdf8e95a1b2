// Users and tokens on PostgreSQL: one set for every server instance sharing the database.
import type { AuthStore, TokenRow, UserRow } from '../auth.ts';
import { tokenOf, userOf } from '../sqlite/auth.ts';
import { connectError, PgPool } from './pool.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE auth_users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at BIGINT NOT NULL);
   CREATE TABLE auth_tokens (
     id TEXT PRIMARY KEY, user_name TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, role TEXT, secret_hash TEXT NOT NULL,
     created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT, last_used_at BIGINT);
   CREATE INDEX auth_tokens_user ON auth_tokens(user_name);`,
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
    await this.db.query('INSERT INTO auth_users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT(name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash',
      [u.name, u.role, u.passwordHash, u.createdAt]);
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
    await this.db.query('INSERT INTO auth_tokens (id, user_name, kind, label, role, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [t.id, t.user, t.kind, t.label, t.role ?? null, t.secretHash, t.createdAt, t.expiresAt ?? null]);
  }

  async getToken(id: string): Promise<TokenRow | undefined> {
    const r = (await this.db.query('SELECT * FROM auth_tokens WHERE id = $1', [id]))[0];
    return r ? tokenOf(r) : undefined;
  }

  async listTokens(user?: string): Promise<TokenRow[]> {
    const rows = user === undefined
      ? await this.db.query('SELECT * FROM auth_tokens ORDER BY created_at')
      : await this.db.query('SELECT * FROM auth_tokens WHERE user_name = $1 ORDER BY created_at', [user]);
    return rows.map(tokenOf);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    return (await this.db.query('UPDATE auth_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id', [now, id])).length > 0;
  }

  async touchToken(id: string, now: number): Promise<void> {
    await this.db.query('UPDATE auth_tokens SET last_used_at = $1 WHERE id = $2', [now, id]);
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    // the lock lasts the transaction; the work's queries join it (AsyncLocalStorage)
    return this.db.transaction(async () => {
      await this.db.query(`SELECT pg_advisory_xact_lock(hashtext('gwmo.auth.first-start'))`);
      return work();
    });
  }

  close(): void {
    void this.db.close();
  }
}
