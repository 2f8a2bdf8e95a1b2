// Users, passwords, tokens and logins. A token is `gwmo_` + 32 random bytes; the store keeps its
// SHA-256 and an id derived from it, so a token presented is found without being stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import type { AuthStore, Role, TokenRow, UserRow } from '../../store/auth.ts';
import { ApiError } from '../http-json.ts';
import { LoginLimiter } from './login-limiter.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { isRole, lowest } from './roles.ts';

export interface Principal {
  readonly user: string;
  readonly role: Role;
  readonly tokenId: string;
  readonly kind: TokenRow['kind'];
}

export const MIN_PASSWORD = 10;
const LOGIN_TTL_MS = 12 * 3600_000;
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
export const tokenId = (token: string): string => sha256(token).slice(0, 16);

export class AuthService {
  readonly store: AuthStore;
  readonly limiter: LoginLimiter;
  private readonly now: () => number;
  private readonly loginTtlMs: number;
  // a wrong password costs the same time for a user that does not exist
  private dummyHash: Promise<string> | undefined;

  constructor(store: AuthStore, options: { now?: () => number; loginTtlMs?: number; limiter?: LoginLimiter } = {}) {
    this.store = store;
    this.now = options.now ?? (() => Date.now());
    this.loginTtlMs = options.loginTtlMs ?? LOGIN_TTL_MS;
    this.limiter = options.limiter ?? new LoginLimiter(store.loginFailures ? { counts: store.loginFailures } : {});
  }

  /**
   * First start: with no user yet, creates `admin` with `password` or a generated one, returned so
   * the caller prints it once. Later starts change nothing.
   */
  async firstAdmin(password?: string): Promise<{ name: string; password: string } | undefined> {
    if ((await this.store.listUsers()).length > 0) return undefined;
    const pw = password ?? randomBytes(12).toString('base64url');
    await this.createUser('admin', 'admin', pw);
    return { name: 'admin', password: pw };
  }

  /** An operator-chosen token (from the environment) for `user`, kept across restarts until revoked. */
  async provisionToken(user: string, token: string, label: string): Promise<void> {
    if (token.length < 16) throw new ApiError(400, 'a provisioned token must be at least 16 characters');
    if (await this.store.getToken(tokenId(token))) return;
    await this.store.putToken({ id: tokenId(token), user, kind: 'api', label, secretHash: sha256(token), createdAt: this.now() });
  }

  async createUser(name: string, role: Role, password: string): Promise<UserRow> {
    if (!NAME.test(name)) throw new ApiError(400, 'name must be 1–64 letters, digits or . _ @ -');
    if (!isRole(role)) throw new ApiError(400, 'role must be viewer, operator or admin');
    if (password.length < MIN_PASSWORD) throw new ApiError(400, `password must have at least ${MIN_PASSWORD} characters`);
    const row = { name, role, passwordHash: await hashPassword(password), createdAt: this.now() };
    // one statement decides: a second create of the name changes nothing
    if (!(await this.store.addUser(row))) throw new ApiError(409, `user ${name} exists; change it with PUT /api/users/${name}`);
    return row;
  }

  async updateUser(name: string, patch: { role?: Role; password?: string }): Promise<UserRow> {
    const user = await this.store.getUser(name);
    if (!user) throw new ApiError(404, `no user ${name}`);
    if (patch.role !== undefined && !isRole(patch.role)) throw new ApiError(400, 'role must be viewer, operator or admin');
    if (patch.password !== undefined && patch.password.length < MIN_PASSWORD)
      throw new ApiError(400, `password must have at least ${MIN_PASSWORD} characters`);
    const row = {
      ...user,
      ...(patch.role ? { role: patch.role } : {}),
      ...(patch.password !== undefined ? { passwordHash: await hashPassword(patch.password) } : {}),
    };
    await this.store.putUser(row);
    return row;
  }

  /** A login for the dashboard; 401 for a wrong name or password, 429 while locked out. */
  async login(name: string, password: string, address: string): Promise<{ token: string; principal: Principal; expiresAt: number }> {
    const now = this.now();
    const wait = await this.limiter.retryAfter(name, address, now);
    if (wait > 0) throw new LockedOut(wait);
    const user = await this.store.getUser(name);
    const ok = user
      ? await verifyPassword(password, user.passwordHash)
      : await verifyPassword(password, await (this.dummyHash ??= hashPassword(randomBytes(8).toString('hex'))));
    if (!user || !ok) {
      await this.limiter.failed(name, address, now);
      throw new ApiError(401, 'wrong user name or password');
    }
    await this.limiter.succeeded(name, address);
    const { token, row } = await this.issue(user.name, 'login', `login from ${address}`, undefined, now + this.loginTtlMs);
    return { token, principal: { user: user.name, role: user.role, tokenId: row.id, kind: 'login' }, expiresAt: row.expiresAt! };
  }

  async issue(
    user: string,
    kind: TokenRow['kind'],
    label: string,
    role?: Role,
    expiresAt?: number,
  ): Promise<{ token: string; row: TokenRow }> {
    const token = `gwmo_${randomBytes(32).toString('base64url')}`;
    const row: TokenRow = {
      id: tokenId(token),
      user,
      kind,
      label,
      secretHash: sha256(token),
      createdAt: this.now(),
      ...(role ? { role } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
    await this.store.putToken(row);
    return { token, row };
  }

  /** the principal a token stands for, or undefined (unknown, revoked, expired, user gone) */
  async authenticate(token: string): Promise<Principal | undefined> {
    const row = await this.store.getToken(tokenId(token));
    if (!row || row.revokedAt !== undefined) return undefined;
    const now = this.now();
    if (row.expiresAt !== undefined && row.expiresAt <= now) return undefined;
    if (!timingSafeEqual(Buffer.from(row.secretHash, 'hex'), Buffer.from(sha256(token), 'hex'))) return undefined;
    const user = await this.store.getUser(row.user);
    if (!user) return undefined;
    // last use is for people auditing tokens: minute precision spares a write per request
    if (row.lastUsedAt === undefined || now - row.lastUsedAt > 60_000) await this.store.touchToken(row.id, now);
    return { user: user.name, role: row.role ? lowest(row.role, user.role) : user.role, tokenId: row.id, kind: row.kind };
  }
}

export class LockedOut extends ApiError {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(429, `too many failed logins; try again in ${Math.ceil(retryAfterMs / 1000)} s`);
    this.retryAfterMs = retryAfterMs;
  }
}
