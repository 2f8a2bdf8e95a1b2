// Whether a store can be used now: an error that means "the database is not there" (PostgreSQL down
// or restarting, the connection lost) or "there is no room to write" (SQLite's disk full, PostgreSQL's
// disk_full) is a store fault, answered 503/507 instead of 500; the rest stays a bug. Each store keeps
// one StoreHealth: the first fault logs one warn line, the first success after it one info line.

export type StoreState = 'ok' | 'unavailable' | 'full';

export interface StoreFault {
  readonly state: Exclude<StoreState, 'ok'>;
  /** the original error's message, for the operator */
  readonly cause: string;
}

export interface StoreStatus {
  readonly state: StoreState;
  /** why, while not ok */
  readonly cause?: string;
  /** since when (ms since the epoch) the store has been in this state */
  readonly since: number;
}

/** seconds a client is told to wait before it tries again while the store is away */
export const STORE_RETRY_AFTER_S = 5;

// SQLite primary result codes (https://sqlite.org/rescode.html); node:sqlite puts them in `errcode`
const SQLITE_BUSY = 5;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;

// network errors of a lost or refused connection (node's, and what pg says when it drops one)
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const PG_LOST =
  /^(Connection terminated|Client has encountered a connection error|Client was closed|Connection ended|timeout exceeded when trying to connect)/i;

/** The store fault an error is, or undefined when it is something else (a bug, a constraint, bad input). */
export function storeFaultOf(err: unknown): StoreFault | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; errcode?: unknown; errstr?: unknown; message?: unknown; errors?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (e.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number') {
    const primary = e.errcode & 0xff;
    if (primary === SQLITE_FULL) return { state: 'full', cause: `storage full: ${message}` };
    if (primary === SQLITE_IOERR || primary === SQLITE_CANTOPEN) return { state: 'unavailable', cause: message };
    // still locked after busy_timeout (5 s): another process holds the file's write lock
    if (primary === SQLITE_BUSY) return { state: 'unavailable', cause: `database busy: ${message}` };
    return undefined;
  }
  if (typeof e.code === 'string') {
    if (NET_CODES.has(e.code)) return { state: 'unavailable', cause: `database unreachable: ${message}` };
    if (e.code === 'ENOSPC') return { state: 'full', cause: `storage full: ${message}` };
    // PostgreSQL SQLSTATEs: 08 connection exception, 57P01-03 shutting down / restarting / starting,
    // 53300 too many connections; 53100 disk full
    if (e.code === '53100') return { state: 'full', cause: `storage full: ${message}` };
    if (/^08...$/.test(e.code) || /^57P0[123]$/.test(e.code) || e.code === '53300')
      return { state: 'unavailable', cause: `database unavailable: ${message}` };
  }
  // node's connect() to every address of a name: an AggregateError of ECONNREFUSED
  if (Array.isArray(e.errors) && e.errors.length > 0) return storeFaultOf(e.errors[0]);
  if (PG_LOST.test(message)) return { state: 'unavailable', cause: `database connection lost: ${message}` };
  return undefined;
}

/** The HTTP answer to a store fault: 503 with Retry-After while the database is away, 507 when it is full. */
export function faultHttp(fault: StoreFault, forDm = false): { status: number; error: string; retryAfter: number } {
  // a DM client knows 503 + Retry-After (OMA DM HTTP binding: retry later); 507 is WebDAV's and a
  // device would take it as a failed session, so /dm answers 503 for a full disk too
  const status = fault.state === 'full' && !forDm ? 507 : 503;
  const error = fault.state === 'full' ? 'storage full' : 'database unavailable';
  return { status, error: `${error}: ${fault.cause}`, retryAfter: STORE_RETRY_AFTER_S };
}

const PROBE_EVERY_MS = 1000;

export type HealthLog = (event: string, fields: Record<string, unknown>) => void;

export class StoreHealth {
  private current: StoreStatus = { state: 'ok', since: Date.now() };
  private readonly listeners: HealthLog[] = [];
  private readonly name: string;
  private readonly probe: () => Promise<void>;
  private probing: Promise<void> | undefined;
  private probedAt = 0;

  /** `probe`: a small statement that fails while the store is away (PostgreSQL: SELECT 1; SQLite: a write) */
  constructor(name: string, probe: () => Promise<void>) {
    this.name = name;
    this.probe = probe;
  }

  /** where the transitions are logged (`store.unavailable` warn, `store.available` info); several may listen */
  onChange(log: HealthLog): void {
    this.listeners.push(log);
  }

  /** the state as the last store operation left it */
  status(): StoreStatus {
    return this.current;
  }

  /**
   * The state now: while the store is away, the probe runs (its outcome feeds the state), so a
   * health check (/healthz) sees the store come back even when no request has used it since.
   */
  async check(): Promise<StoreStatus> {
    if (this.current.state === 'ok') return this.current;
    // an unauthenticated health check must not cost a connection attempt each: one probe at a time, one a second
    if (!this.probing && Date.now() - this.probedAt >= PROBE_EVERY_MS) {
      this.probedAt = Date.now();
      this.probing = this.probe()
        .then(
          () => this.succeeded(),
          (err: unknown) => void this.failed(err),
        )
        .finally(() => {
          this.probing = undefined;
        });
    }
    await this.probing;
    return this.current;
  }

  /** Called with any error a store operation threw: a fault changes the state; the fault (or undefined) is returned. */
  failed(err: unknown): StoreFault | undefined {
    const fault = storeFaultOf(err);
    if (!fault) return undefined;
    if (this.current.state !== fault.state) {
      this.current = { state: fault.state, cause: fault.cause, since: Date.now() };
      for (const l of this.listeners) l('store.unavailable', { store: this.name, state: fault.state, cause: fault.cause });
    }
    return fault;
  }

  /** Called after a store operation succeeded: the store is back if it was away. Cheap when nothing changed. */
  succeeded(): void {
    if (this.current.state === 'ok') return;
    const was = this.current;
    this.current = { state: 'ok', since: Date.now() };
    for (const l of this.listeners) l('store.available', { store: this.name, was: was.state, downMs: this.current.since - was.since });
  }
}
