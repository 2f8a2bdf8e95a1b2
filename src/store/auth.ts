// Who may use the server's API and dashboard: users with a role, and the tokens they hold (API
// tokens and dashboard login sessions). Secrets are kept hashed. Promise-returning so a shared
// store (several server instances) can implement it.
export type Role = 'viewer' | 'operator' | 'admin';

export interface UserRow {
  readonly name: string;
  readonly role: Role;
  /** `scrypt$N$r$p$salt$key`, base64 parts */
  readonly passwordHash: string;
  readonly createdAt: number;
}

export interface TokenRow {
  readonly id: string;
  readonly user: string;
  /** `api`: made for a script; `login`: a dashboard session */
  readonly kind: 'api' | 'login';
  readonly label: string;
  /** a token may be limited below its user's role */
  readonly role?: Role;
  /** hex SHA-256 of the token */
  readonly secretHash: string;
  readonly createdAt: number;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
  readonly lastUsedAt?: number;
}

/** Failures per key (a user or a device at an address, an address) for login and DM authentication rate limiting. */
export interface FailureCounts {
  /** one more failure; a new count when the last started over `windowMs` ago and is not locked; the count */
  add(key: string, now: number, windowMs: number): Promise<number>;
  lock(key: string, until: number): Promise<void>;
  /** the latest lock of any of the keys (0: none) */
  lockedUntil(keys: readonly string[]): Promise<number>;
  /** the key's current count and lock (undefined: none within the window and not locked) */
  get(key: string, now: number, windowMs: number): Promise<{ failures: number; lockedUntil: number } | undefined>;
  clear(key: string): Promise<void>;
}

export interface AuthStore {
  /** creates or replaces the user (a role or password change) */
  putUser(row: UserRow): Promise<void>;
  /** creates the user in one statement; false (and nothing changed) when the name is taken */
  addUser(row: UserRow): Promise<boolean>;
  getUser(name: string): Promise<UserRow | undefined>;
  listUsers(): Promise<UserRow[]>;
  /** also revokes the user's tokens */
  deleteUser(name: string, now: number): Promise<boolean>;

  putToken(row: TokenRow): Promise<void>;
  getToken(id: string): Promise<TokenRow | undefined>;
  listTokens(user?: string): Promise<TokenRow[]>;
  revokeToken(id: string, now: number): Promise<boolean>;
  touchToken(id: string, now: number): Promise<void>;
  /** deletes at most `limit` tokens that expired or were revoked before `before` (they open nothing); how many */
  pruneTokens(before: number, limit: number): Promise<number>;

  /**
   * Runs `work` while no other process sharing the store runs its own (instances starting together
   * create the first admin once); a store only one process uses need not offer it.
   */
  exclusive?<T>(work: () => Promise<T>): Promise<T>;

  /**
   * Failed-login (and, keys prefixed `dm:`, failed DM authentication) counts every process sharing
   * the store sees; without it each process counts its own.
   */
  readonly loginFailures?: FailureCounts;

  close(): void;
}
