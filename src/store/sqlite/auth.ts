// Users and tokens on SQLite; its own tables, usually in the server's database file.
import { DatabaseSync } from 'node:sqlite';

import type { AuthStore, Role, TokenRow, UserRow } from '../auth.ts';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS auth_users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS auth_tokens (
    id TEXT PRIMARY KEY, user_name TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, role TEXT, secret_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER, last_used_at INTEGER);
  CREATE INDEX IF NOT EXISTS auth_tokens_user ON auth_tokens(user_name);`;

type Row = Record<string, unknown>;
// a token past its expiry or revoked opens nothing; kept a while so the token list shows what ended
const PRUNE_TOKENS = `DELETE FROM auth_tokens WHERE id IN (SELECT id FROM auth_tokens WHERE expires_at < ?1 OR revoked_at < ?1 LIMIT ?2)`;
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined);

export const userOf = (r: Row): UserRow => ({
  name: String(r['name']),
  role: String(r['role']) as Role,
  passwordHash: String(r['password_hash']),
  createdAt: num(r['created_at'])!,
});

export function tokenOf(r: Row): TokenRow {
  const expiresAt = num(r['expires_at']);
  const revokedAt = num(r['revoked_at']);
  const lastUsedAt = num(r['last_used_at']);
  const role = typeof r['role'] === 'string' ? (r['role'] as Role) : undefined;
  return {
    id: String(r['id']),
    user: String(r['user_name']),
    kind: String(r['kind']) as TokenRow['kind'],
    label: String(r['label']),
    ...(role ? { role } : {}),
    secretHash: String(r['secret_hash']),
    createdAt: num(r['created_at'])!,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    ...(revokedAt !== undefined ? { revokedAt } : {}),
    ...(lastUsedAt !== undefined ? { lastUsedAt } : {}),
  };
}

export class SqliteAuthStore implements AuthStore {
  private readonly db: DatabaseSync;

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA busy_timeout = 5000');
    if (path !== ':memory:') this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec(SCHEMA);
  }

  async putUser(u: UserRow): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO auth_users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash',
      )
      .run(u.name, u.role, u.passwordHash, u.createdAt);
  }

  async addUser(u: UserRow): Promise<boolean> {
    const r = this.db
      .prepare('INSERT INTO auth_users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING')
      .run(u.name, u.role, u.passwordHash, u.createdAt);
    return Number(r.changes) === 1;
  }

  async getUser(name: string): Promise<UserRow | undefined> {
    const r = this.db.prepare('SELECT * FROM auth_users WHERE name = ?').get(name) as Row | undefined;
    return r ? userOf(r) : undefined;
  }

  async listUsers(): Promise<UserRow[]> {
    return (this.db.prepare('SELECT * FROM auth_users ORDER BY name').all() as Row[]).map(userOf);
  }

  async deleteUser(name: string, now: number): Promise<boolean> {
    this.db.prepare('UPDATE auth_tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL').run(now, name);
    return Number(this.db.prepare('DELETE FROM auth_users WHERE name = ?').run(name).changes) > 0;
  }

  async putToken(t: TokenRow): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO auth_tokens (id, user_name, kind, label, role, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(t.id, t.user, t.kind, t.label, t.role ?? null, t.secretHash, t.createdAt, t.expiresAt ?? null);
  }

  async getToken(id: string): Promise<TokenRow | undefined> {
    const r = this.db.prepare('SELECT * FROM auth_tokens WHERE id = ?').get(id) as Row | undefined;
    return r ? tokenOf(r) : undefined;
  }

  async listTokens(user?: string): Promise<TokenRow[]> {
    const rows =
      user === undefined
        ? this.db.prepare('SELECT * FROM auth_tokens ORDER BY created_at').all()
        : this.db.prepare('SELECT * FROM auth_tokens WHERE user_name = ? ORDER BY created_at').all(user);
    return (rows as Row[]).map(tokenOf);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    return Number(this.db.prepare('UPDATE auth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes) > 0;
  }

  async touchToken(id: string, now: number): Promise<void> {
    this.db.prepare('UPDATE auth_tokens SET last_used_at = ? WHERE id = ?').run(now, id);
  }

  async pruneTokens(before: number, limit: number): Promise<number> {
    return Number(this.db.prepare(PRUNE_TOKENS).run(before, limit).changes);
  }

  close(): void {
    this.db.close();
  }
}
