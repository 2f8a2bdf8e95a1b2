// The DM server's store on SQLite (node:sqlite). One file, WAL; `:memory:` for tests.
import { statfsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

import { StoreHealth } from '../health.ts';

import {
  ACCOUNT_COLUMNS,
  alertOf,
  alertType,
  alertWhere,
  columnValue,
  deviceOf,
  fromJson,
  num,
  operationOf,
  ORPHAN_DOUBT_NOTE,
  NEW_DEVICE_COLUMNS,
  RESENDABLE_SQL,
  RESOLVED,
  newDeviceValues,
  type Row,
  toJson,
  UPDATE_COLUMNS,
} from '../rows.ts';
import {
  type BeyondStep,
  DEVICE_RANGE_SQL,
  beyondSql,
  deleteKeysSql,
  type HistoryKind,
  nextCursor,
  olderSql,
  type PerDeviceKind,
} from '../history.ts';
import type {
  AccountPatch,
  AlertQuery,
  AlertRow,
  DeviceJobRow,
  CampaignRow,
  DistributionDeviceRow,
  DistributionRow,
  DeviceRow,
  DeviceUpdate,
  DoubtResolution,
  OperationFinish,
  OperationRow,
  OperationState,
  ServerStore,
  SyncAccounts,
} from '../server.ts';
import { rollbackQuietly, writeTransaction } from './tx.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE devices (
     device_id TEXT PRIMARY KEY, scheme TEXT NOT NULL, client_name TEXT NOT NULL, client_password TEXT NOT NULL,
     server_name TEXT, server_password TEXT, client_nonce BLOB, server_nonce BLOB, notify_address TEXT,
     dev_info TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL, last_seen INTEGER);
   CREATE TABLE operations (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
     device_id TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
     kind TEXT NOT NULL, target TEXT NOT NULL, source TEXT, data_text TEXT, data_blob BLOB, format TEXT, type TEXT,
     correlator TEXT, state TEXT NOT NULL, status INTEGER, results TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE INDEX operations_device_state ON operations(device_id, state, seq);
   CREATE TABLE alerts (
     id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
     code INTEGER NOT NULL, correlator TEXT, items TEXT NOT NULL, received_at INTEGER NOT NULL);
   CREATE INDEX alerts_device ON alerts(device_id, id);`,
  // devices behind gateways (where each was last announced) and the jobs that follow them
  `CREATE TABLE device_locations (device_id TEXT PRIMARY KEY, gateway_id TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE TABLE device_jobs (id TEXT PRIMARY KEY, device_id TEXT NOT NULL, correlator TEXT, record TEXT NOT NULL);
   CREATE INDEX device_jobs_device ON device_jobs(device_id);
   CREATE INDEX device_jobs_correlator ON device_jobs(correlator);`,
  // per-device session profiles, and why an operation failed or was queued again
  `ALTER TABLE devices ADD COLUMN session_profile TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE operations ADD COLUMN note TEXT;`,
  // alerts listed fleet-wide by Type (the first item's) and by time
  `ALTER TABLE alerts ADD COLUMN type TEXT;
   UPDATE alerts SET type = json_extract(items, '$[0].type');
   CREATE INDEX alerts_type ON alerts(type, id);
   CREATE INDEX alerts_received ON alerts(received_at, id);`,
  // operations that may be sent again when whether they ran is unknown (in doubt otherwise)
  `ALTER TABLE operations ADD COLUMN retry TEXT;`,
  // retention: finished history found by age without reading what is still open; a device's operations
  // newest first (the API's list) without sorting its history; docs/scale.md, History
  `ALTER TABLE device_jobs ADD COLUMN state TEXT;
   ALTER TABLE device_jobs ADD COLUMN updated_at INTEGER;
   UPDATE device_jobs SET state = json_extract(record, '$.state'), updated_at = json_extract(record, '$.updatedAt');
   CREATE INDEX device_jobs_done ON device_jobs(updated_at) WHERE state = 'done';
   CREATE INDEX operations_finished ON operations(updated_at) WHERE state IN ('done', 'failed');
   CREATE INDEX operations_device_seq ON operations(device_id, seq);
   CREATE INDEX operations_sent ON operations(state) WHERE state = 'sent';`,
  // image distributions and each device's part in them (src/server/distributions.ts)
  `CREATE TABLE distributions (id TEXT PRIMARY KEY, gateway_id TEXT NOT NULL, created_at INTEGER NOT NULL, record TEXT NOT NULL);
   CREATE INDEX distributions_created ON distributions(created_at);
   CREATE TABLE distribution_devices (
     distribution_id TEXT NOT NULL, device_id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (distribution_id, device_id));
   CREATE INDEX distribution_devices_device ON distribution_devices(device_id);`,
  // staged rollouts over distributions (src/server/campaigns.ts)
  `CREATE TABLE campaigns (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, record TEXT NOT NULL);
   CREATE INDEX campaigns_created ON campaigns(created_at);`,
  // a LAN device's next server secret while it is being rotated (docs/security.md, Package#0 secrets)
  `ALTER TABLE devices ADD COLUMN server_password_next TEXT;`,
  // rotations of it the device refused in a row (src/gateway/server-secret.ts gives up at 3)
  `ALTER TABLE devices ADD COLUMN server_secret_failures INTEGER;`,
];

/** free space below which a full store is still full (a few pages and their WAL frames) */
const MIN_FREE_BYTES = 256 * 1024;

/** the schema version this gwmo writes: a newer file is refused, an older one migrated on open */
export const SERVER_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * WAL pages between checkpoints (SQLite's default: 1,000). A checkpoint syncs the file and blocks
 * the event loop for milliseconds; ten times fewer of them, each copying a hot page once instead of
 * ten times, took the stalls of a per-message workload from ~100 to ~30 µs per message on average.
 */
export const WAL_CHECKPOINT_PAGES = 10_000;

export class SqliteServerStore implements ServerStore, SyncAccounts {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private batching = false;
  readonly health: StoreHealth;

  /** Prepared once, reused: preparing costs more than running these small statements. */
  private sql(text: string): StatementSync {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  /**
   * `exclusive`: this connection is the file's only user (a gateway's LAN-side store): SQLite then
   * takes its locks once instead of per transaction, which makes every statement cheaper.
   */
  constructor(path: string, options: { exclusive?: boolean; walCheckpointPages?: number } = {}) {
    // a write, in a batch: a full disk is over only when a page can be written again; and room for a
    // few more (a rewrite of one page may fit in the WAL's free frames while nothing new would)
    this.health = new StoreHealth(path === ':memory:' ? 'sqlite' : basename(path), async () => {
      if (path !== ':memory:') {
        const fs = statfsSync(dirname(path));
        if (fs.bavail * fs.bsize < MIN_FREE_BYTES)
          throw Object.assign(new Error(`${fs.bavail * fs.bsize} bytes free beside ${basename(path)}`), { code: 'ENOSPC' });
      }
      await this.batch(async () => void this.sql('UPDATE schema_version SET version = version').run());
    });
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    if (options.exclusive) this.db.exec('PRAGMA locking_mode = EXCLUSIVE;');
    if (path !== ':memory:')
      this.db.exec(
        `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = ${Math.floor(options.walCheckpointPages ?? WAL_CHECKPOINT_PAGES)};`,
      );
    this.migrate();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.sql('SELECT version FROM schema_version').get() as Row | undefined;
    let version = row ? num(row['version'])! : 0;
    if (!row) this.db.exec('INSERT INTO schema_version VALUES (0)');
    if (version > MIGRATIONS.length)
      throw new Error(`database schema ${version} is newer than this gwmo (${MIGRATIONS.length}): upgrade gwmo`);
    for (; version < MIGRATIONS.length; version++) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[version]!);
        this.sql('UPDATE schema_version SET version = ?').run(version + 1);
      });
    }
  }

  private transaction<T>(run: () => T): T {
    if (this.batching) return run(); // already inside a batch's transaction
    return writeTransaction(this.db, run);
  }

  /** the file is in this process: a query that runs at all runs at once (the timeout is moot) */
  async ping(_timeoutMs: number): Promise<void> {
    this.sql('SELECT 1').get();
  }

  async batch<T>(work: () => Promise<T>): Promise<T> {
    if (this.batching) return work();
    this.batching = true;
    // a full disk is over only when something was written again, not when a read-only batch commits
    const changesBefore = this.health.status().state === 'full' ? this.totalChanges() : undefined;
    try {
      // prepared, like every statement: BEGIN and COMMIT run once per DM message
      this.sql('BEGIN IMMEDIATE').run();
      const out = await work();
      this.sql('COMMIT').run();
      if (changesBefore === undefined || this.totalChanges() > changesBefore) this.health.succeeded();
      return out;
    } catch (err) {
      rollbackQuietly(this.db);
      this.health.failed(err);
      throw err;
    } finally {
      this.batching = false;
    }
  }

  private totalChanges(): number {
    return num((this.sql('SELECT total_changes() AS n').get() as Row)['n']) ?? 0;
  }

  async putDevice(d: DeviceRow): Promise<void> {
    this.putDeviceNow(d);
  }

  putDeviceNow(d: DeviceRow): void {
    this.sql(`INSERT INTO devices (${NEW_DEVICE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
      ON CONFLICT(device_id) DO UPDATE SET scheme=excluded.scheme, client_name=excluded.client_name,
        client_password=excluded.client_password, server_name=excluded.server_name, server_password=excluded.server_password,
        notify_address=excluded.notify_address`).run(...newDeviceValues(d));
  }

  async insertDevice(d: DeviceRow): Promise<boolean> {
    const r = this.sql(`INSERT INTO devices (${NEW_DEVICE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
      ON CONFLICT(device_id) DO NOTHING`).run(...newDeviceValues(d));
    return Number(r.changes) === 1;
  }

  async changeAccount(deviceId: string, patch: AccountPatch): Promise<DeviceRow | undefined> {
    const entries = Object.entries(patch) as [keyof AccountPatch, unknown][];
    const sets = entries.map(([k]) => `${ACCOUNT_COLUMNS[k]} = ?`);
    const r = this.sql(`UPDATE devices SET ${sets.join(', ') || 'device_id = device_id'} WHERE device_id = ? RETURNING *`).get(
      ...entries.map(([k, v]) => columnValue(k, v)),
      deviceId,
    ) as Row | undefined;
    return r ? deviceOf(r) : undefined;
  }

  async getDevice(deviceId: string): Promise<DeviceRow | undefined> {
    return this.deviceNow(deviceId);
  }

  deviceNow(deviceId: string): DeviceRow | undefined {
    const r = this.sql('SELECT * FROM devices WHERE device_id = ?').get(deviceId) as Row | undefined;
    return r ? deviceOf(r) : undefined;
  }

  async touchDevice(deviceId: string, now: number): Promise<DeviceRow | undefined> {
    const r = this.sql('UPDATE devices SET last_seen = ? WHERE device_id = ? RETURNING *').get(now, deviceId) as Row | undefined;
    return r ? deviceOf(r) : undefined;
  }

  async listDevices(options: { limit?: number; offset?: number } = {}): Promise<DeviceRow[]> {
    return (
      this.sql('SELECT * FROM devices ORDER BY device_id LIMIT ? OFFSET ?').all(options.limit ?? -1, options.offset ?? 0) as Row[]
    ).map(deviceOf);
  }

  async deleteDevice(deviceId: string): Promise<boolean> {
    return Number(this.sql('DELETE FROM devices WHERE device_id = ?').run(deviceId).changes) > 0;
  }

  async updateDevice(deviceId: string, patch: DeviceUpdate): Promise<void> {
    const sets: string[] = [];
    const values: (string | number | Uint8Array | null)[] = [];
    for (const [key, value] of Object.entries(patch) as [keyof typeof UPDATE_COLUMNS, unknown][]) {
      sets.push(`${UPDATE_COLUMNS[key]} = ?`);
      values.push(columnValue(key, value));
    }
    if (sets.length > 0) this.sql(`UPDATE devices SET ${sets.join(', ')} WHERE device_id = ?`).run(...values, deviceId);
  }

  async queueOperation(op: Omit<OperationRow, 'state' | 'createdAt' | 'updatedAt'>, now: number): Promise<OperationRow> {
    const rows = this.sql(`INSERT INTO operations (id, device_id, kind, target, source, data_text, data_blob, format, type, correlator,
        retry, state, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,'queued',?,?) RETURNING *`).all(
      op.id,
      op.deviceId,
      op.kind,
      op.target,
      op.source ?? null,
      typeof op.data === 'string' ? op.data : null,
      op.data instanceof Uint8Array ? op.data : null,
      op.format ?? null,
      op.type ?? null,
      op.correlator ?? null,
      op.retry ?? null,
      now,
      now,
    ) as Row[];
    return operationOf(rows[0]!);
  }

  async getOperation(id: string): Promise<OperationRow | undefined> {
    const r = this.sql('SELECT * FROM operations WHERE id = ?').get(id) as Row | undefined;
    return r ? operationOf(r) : undefined;
  }

  async listOperations(
    deviceId: string,
    options: { limit?: number; offset?: number; state?: OperationState } = {},
  ): Promise<OperationRow[]> {
    const state = options.state === undefined ? '' : ' AND state = ?';
    return (
      this.sql(`SELECT * FROM operations WHERE device_id = ?${state} ORDER BY seq DESC LIMIT ? OFFSET ?`).all(
        deviceId,
        ...(options.state === undefined ? [] : [options.state]),
        options.limit ?? -1,
        options.offset ?? 0,
      ) as Row[]
    ).map(operationOf);
  }

  openOperationsNow(deviceId: string): number {
    return num(
      (this.sql(`SELECT count(*) AS n FROM operations WHERE device_id = ? AND state IN ('queued', 'sent')`).get(deviceId) as Row)['n'],
    )!;
  }

  async takeOperations(deviceId: string, limit: number, now: number): Promise<OperationRow[]> {
    // a read on the index, then updates by rowid: cheaper than UPDATE … WHERE seq IN (SELECT …) RETURNING, and
    // nothing written when the queue is empty (every session's last take)
    return this.transaction(() => {
      // the limit as a literal (one statement per limit, a handful): SQLite plans a bound LIMIT ~10 µs slower per call
      const n = Math.max(0, Math.floor(limit));
      const rows = this.sql(`SELECT * FROM operations WHERE device_id = ? AND state = 'queued' ORDER BY seq LIMIT ${n}`).all(
        deviceId,
      ) as Row[];
      const mark = this.sql(`UPDATE operations SET state = 'sent', updated_at = ? WHERE seq = ?`);
      return rows.map((r) => {
        mark.run(now, r['seq'] as number);
        return operationOf({ ...r, state: 'sent', updated_at: now });
      });
    });
  }

  async finishOperation(id: string, outcome: OperationFinish, now: number): Promise<OperationRow | undefined> {
    // all(), not get(): get() leaves a RETURNING statement unfinished, and its open read keeps the WAL from being checkpointed
    const [r] = this.sql('UPDATE operations SET state = ?, status = ?, results = ?, note = ?, updated_at = ? WHERE id = ? RETURNING *').all(
      outcome.state,
      outcome.status ?? null,
      outcome.results ? toJson(outcome.results) : null,
      outcome.note ?? null,
      now,
      id,
    ) as Row[];
    return r ? operationOf(r) : undefined;
  }

  async requeueOperations(ids: readonly string[], now: number, note?: string): Promise<void> {
    const stmt = this.sql(
      `UPDATE operations SET state = 'queued', note = coalesce(?, note), updated_at = ? WHERE id = ? AND state = 'sent'`,
    );
    this.transaction(() => ids.forEach((id) => stmt.run(note ?? null, now, id)));
  }

  async requeueAllSent(now: number): Promise<number> {
    return this.transaction(() => {
      this.sql(`UPDATE operations SET state = 'indoubt', note = ?, updated_at = ? WHERE state = 'sent' AND NOT ${RESENDABLE_SQL}`).run(
        ORPHAN_DOUBT_NOTE,
        now,
      );
      return Number(this.sql(`UPDATE operations SET state = 'queued', updated_at = ? WHERE state = 'sent'`).run(now).changes);
    });
  }

  async resolveOperation(id: string, resolution: DoubtResolution, now: number, note: string): Promise<OperationRow | undefined> {
    const [state, status] = RESOLVED[resolution];
    const [r] = this.sql(
      `UPDATE operations SET state = ?, status = ?, note = ?, updated_at = ? WHERE id = ? AND state = 'indoubt' RETURNING *`,
    ).all(state, status, note, now, id) as Row[];
    return r ? operationOf(r) : undefined;
  }

  async cancelOperation(id: string, status: number, now: number): Promise<boolean> {
    return (
      Number(
        this.sql(
          `UPDATE operations SET state = 'failed', status = ?, updated_at = ? WHERE id = ? AND state IN ('queued', 'sent', 'accepted')`,
        ).run(status, now, id).changes,
      ) > 0
    );
  }

  async listAccepted(deviceId: string, limit: number): Promise<OperationRow[]> {
    return (
      this.sql(`SELECT * FROM operations WHERE device_id = ? AND state = 'accepted' ORDER BY seq LIMIT ?`).all(deviceId, limit) as Row[]
    ).map(operationOf);
  }

  async findAcceptedByCorrelator(deviceId: string, correlator: string): Promise<OperationRow | undefined> {
    const r = this.sql(
      `SELECT * FROM operations WHERE device_id = ? AND correlator = ? AND state = 'accepted' ORDER BY seq DESC LIMIT 1`,
    ).get(deviceId, correlator) as Row | undefined;
    return r ? operationOf(r) : undefined;
  }

  async setLocation(deviceId: string, gatewayId: string, now: number): Promise<void> {
    this.sql(
      'INSERT INTO device_locations (device_id, gateway_id, at) VALUES (?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET gateway_id = excluded.gateway_id, at = excluded.at',
    ).run(deviceId, gatewayId, now);
  }

  async getLocation(deviceId: string): Promise<{ gatewayId: string; at: number } | undefined> {
    const r = this.sql('SELECT gateway_id, at FROM device_locations WHERE device_id = ?').get(deviceId) as Row | undefined;
    return r ? { gatewayId: String(r['gateway_id']), at: num(r['at'])! } : undefined;
  }

  async putDeviceJob(job: DeviceJobRow): Promise<void> {
    this.sql(
      `INSERT INTO device_jobs (id, device_id, correlator, record, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET correlator = excluded.correlator, record = excluded.record, state = excluded.state, updated_at = excluded.updated_at`,
    ).run(job.id, job.deviceId, job.correlator ?? null, toJson(job), job.state, job.updatedAt);
  }

  async getDeviceJob(id: string): Promise<DeviceJobRow | undefined> {
    const r = this.sql('SELECT record FROM device_jobs WHERE id = ?').get(id) as Row | undefined;
    return r ? fromJson<DeviceJobRow>(String(r['record'])) : undefined;
  }

  async findDeviceJob(correlator: string): Promise<DeviceJobRow | undefined> {
    const r = this.sql('SELECT record FROM device_jobs WHERE correlator = ?').get(correlator) as Row | undefined;
    return r ? fromJson<DeviceJobRow>(String(r['record'])) : undefined;
  }

  async listDeviceJobs(deviceId: string): Promise<DeviceJobRow[]> {
    return (this.sql('SELECT record FROM device_jobs WHERE device_id = ?').all(deviceId) as Row[]).map((r) =>
      fromJson<DeviceJobRow>(String(r['record'])),
    );
  }

  async putDistribution(d: DistributionRow): Promise<void> {
    this.sql(
      'INSERT INTO distributions (id, gateway_id, created_at, record) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record',
    ).run(d.id, d.gatewayId, d.createdAt, toJson(d));
  }

  async insertDistribution(d: DistributionRow): Promise<boolean> {
    const r = this.sql('INSERT INTO distributions (id, gateway_id, created_at, record) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING').run(
      d.id,
      d.gatewayId,
      d.createdAt,
      toJson(d),
    );
    return Number(r.changes) === 1;
  }

  async getDistribution(id: string): Promise<DistributionRow | undefined> {
    const r = this.sql('SELECT record FROM distributions WHERE id = ?').get(id) as Row | undefined;
    return r ? fromJson<DistributionRow>(String(r['record'])) : undefined;
  }

  async listDistributions(o: { gatewayId?: string; limit: number }): Promise<DistributionRow[]> {
    const rows = (
      o.gatewayId === undefined
        ? this.sql('SELECT record FROM distributions ORDER BY created_at DESC, id LIMIT ?').all(o.limit)
        : this.sql('SELECT record FROM distributions WHERE gateway_id = ? ORDER BY created_at DESC, id LIMIT ?').all(o.gatewayId, o.limit)
    ) as Row[];
    return rows.map((r) => fromJson<DistributionRow>(String(r['record'])));
  }

  async putDistributionDevices(rows: readonly DistributionDeviceRow[]): Promise<void> {
    const put = this.sql(
      'INSERT INTO distribution_devices (distribution_id, device_id, record) VALUES (?, ?, ?) ON CONFLICT(distribution_id, device_id) DO UPDATE SET record = excluded.record',
    );
    this.transaction(() => {
      for (const r of rows) put.run(r.distributionId, r.deviceId, toJson(r));
    });
  }

  async listDistributionDevices(distributionId: string): Promise<DistributionDeviceRow[]> {
    return (
      this.sql('SELECT record FROM distribution_devices WHERE distribution_id = ? ORDER BY device_id').all(distributionId) as Row[]
    ).map((r) => fromJson<DistributionDeviceRow>(String(r['record'])));
  }

  async listDeviceDistributions(deviceId: string): Promise<DistributionDeviceRow[]> {
    return (this.sql('SELECT record FROM distribution_devices WHERE device_id = ?').all(deviceId) as Row[]).map((r) =>
      fromJson<DistributionDeviceRow>(String(r['record'])),
    );
  }

  async putCampaign(c: CampaignRow): Promise<void> {
    this.sql('INSERT INTO campaigns (id, created_at, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record').run(
      c.id,
      c.createdAt,
      toJson(c),
    );
  }

  async getCampaign(id: string): Promise<CampaignRow | undefined> {
    const r = this.sql('SELECT record FROM campaigns WHERE id = ?').get(id) as Row | undefined;
    return r ? fromJson<CampaignRow>(String(r['record'])) : undefined;
  }

  async listCampaigns(limit: number): Promise<CampaignRow[]> {
    return (this.sql('SELECT record FROM campaigns ORDER BY created_at DESC, id LIMIT ?').all(limit) as Row[]).map((r) =>
      fromJson<CampaignRow>(String(r['record'])),
    );
  }

  async addAlert(a: Omit<AlertRow, 'id'>): Promise<AlertRow> {
    const info = this.sql('INSERT INTO alerts (device_id, code, correlator, items, received_at, type) VALUES (?,?,?,?,?,?)').run(
      a.deviceId,
      a.code,
      a.correlator ?? null,
      toJson(a.items),
      a.receivedAt,
      alertType(a),
    );
    return { ...a, id: Number(info.lastInsertRowid) };
  }

  async listAlerts(deviceId: string, options: { limit?: number } = {}): Promise<AlertRow[]> {
    return (this.sql('SELECT * FROM alerts WHERE device_id = ? ORDER BY id DESC LIMIT ?').all(deviceId, options.limit ?? 100) as Row[]).map(
      alertOf,
    );
  }

  async queryAlerts(q: AlertQuery): Promise<AlertRow[]> {
    const { where, values } = alertWhere(q);
    return (
      this.sql(`SELECT * FROM alerts ${where} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...values, q.limit, q.offset ?? 0) as Row[]
    ).map(alertOf);
  }

  async getAlert(id: number): Promise<AlertRow | undefined> {
    const r = this.sql('SELECT * FROM alerts WHERE id = ?').get(id) as Row | undefined;
    return r ? alertOf(r) : undefined;
  }

  /** A consistent copy of this file at `file` (VACUUM INTO on this connection: allowed under its exclusive lock); see backup.ts. */
  backupTo(file: string): void {
    this.db.prepare('VACUUM INTO ?').run(file);
  }

  async pruneOlder(kind: HistoryKind, before: number, limit: number): Promise<number> {
    return Number(this.sql(olderSql(kind, false)).run(before, limit).changes);
  }

  async pruneBeyond(kind: PerDeviceKind, keep: number, cursor: string, devices: number, limit: number): Promise<BeyondStep> {
    const range = (this.sql(DEVICE_RANGE_SQL).all(cursor, devices) as Row[]).map((r) => String(r['device_id']));
    if (range.length === 0) return { removed: 0, next: undefined };
    const keys = (this.sql(beyondSql(kind)).all(cursor, range[range.length - 1]!, keep, limit) as Row[]).map((r) => num(r['k'])!);
    const removed = keys.length === 0 ? 0 : Number(this.sql(deleteKeysSql(kind, false)).run(JSON.stringify(keys)).changes);
    return { removed, next: nextCursor(cursor, range, devices, keys.length, limit) };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
