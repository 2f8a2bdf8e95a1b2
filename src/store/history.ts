// History the server store keeps (finished operations, alerts, finished device jobs) and the SQL
// that prunes it in small batches, shared by SQLite and PostgreSQL. Only finished rows are ever
// removed: an operation queued, sent or accepted (waiting for its Generic Alert), or a device job
// still pending or dispatched, is never history.
export type HistoryKind = 'operations' | 'alerts' | 'deviceJobs';
export const HISTORY_KINDS: readonly HistoryKind[] = ['operations', 'alerts', 'deviceJobs'];
/** kinds kept to a number per device, besides an age */
export type PerDeviceKind = 'operations' | 'alerts';

interface Table {
  readonly table: string;
  readonly key: string;
  /** when the row last changed: what its age counts from */
  readonly time: string;
  /** the rows that are history (the condition of the partial index the age prune reads) */
  readonly finished?: string;
}

const TABLES: Readonly<Record<HistoryKind, Table>> = {
  operations: { table: 'operations', key: 'seq', time: 'updated_at', finished: `state IN ('done', 'failed')` },
  alerts: { table: 'alerts', key: 'id', time: 'received_at' },
  deviceJobs: { table: 'device_jobs', key: 'id', time: 'updated_at', finished: `state = 'done'` },
};

const where = (t: Table, extra: string): string => (t.finished ? `${t.finished} AND ${extra}` : extra);

/**
 * Deletes at most `limit` history rows changed before a time; parameters (time, limit). `postgres`:
 * two instances pruning at once take different rows (SKIP LOCKED) and neither waits for the other;
 * the keys as an array, so the DELETE finds them by primary key (as `IN (subquery)` it may scan the table).
 */
export function olderSql(kind: HistoryKind, postgres: boolean): string {
  const t = TABLES[kind];
  const keys = `SELECT ${t.key} FROM ${t.table} WHERE ${where(t, `${t.time} < ?`)} LIMIT ?`;
  return postgres
    ? `DELETE FROM ${t.table} WHERE ${t.key} = ANY(ARRAY(${keys} FOR UPDATE SKIP LOCKED))`
    : `DELETE FROM ${t.table} WHERE ${t.key} IN (${keys})`;
}

/** the next `n` device ids after a cursor; parameters (cursor, n) */
export const DEVICE_RANGE_SQL = 'SELECT device_id FROM devices WHERE device_id > ? ORDER BY device_id LIMIT ?';

/**
 * Keys of the history rows of devices in (from, to] beyond the newest `keep` of each device, at most
 * `limit`; parameters (from, to, keep, limit).
 */
export function beyondSql(kind: PerDeviceKind): string {
  const t = TABLES[kind];
  return `SELECT ${t.key} AS k FROM (SELECT ${t.key}, row_number() OVER (PARTITION BY device_id ORDER BY ${t.key} DESC) AS n
    FROM ${t.table} WHERE ${where(t, 'device_id > ? AND device_id <= ?')}) AS ranked WHERE n > ? LIMIT ?`;
}

/**
 * Deletes the keys found by beyondSql (still history: nothing finished comes back), as a second
 * statement: the ranking is a read, which holds no write lock on SQLite and no row lock on PostgreSQL.
 * Parameter: the keys (PostgreSQL an array, SQLite a JSON array).
 */
export function deleteKeysSql(kind: PerDeviceKind, postgres: boolean): string {
  const t = TABLES[kind];
  return `DELETE FROM ${t.table} WHERE ${where(t, postgres ? `${t.key} = ANY(?)` : `${t.key} IN (SELECT value FROM json_each(?))`)}`;
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` */
export const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** What one call of a per-device prune did: rows removed, and where the next call starts (undefined: done). */
export interface BeyondStep {
  readonly removed: number;
  readonly next: string | undefined;
}

/**
 * The cursor step both stores share: devices after `cursor`, `devices` at a time; the same range again
 * while a call removed its whole `limit`.
 */
export function nextCursor(cursor: string, range: readonly string[], devices: number, removed: number, limit: number): string | undefined {
  if (removed >= limit) return cursor;
  if (range.length < devices) return undefined;
  return range[range.length - 1];
}
