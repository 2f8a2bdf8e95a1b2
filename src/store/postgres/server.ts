// The DM server's store on PostgreSQL, shared by several server instances. One DM message's writes
// go through one client (BEGIN … COMMIT); queued operations are taken FOR UPDATE SKIP LOCKED, so two
// sessions never take the same one; what other instances must hear of is NOTIFYed inside the
// transaction that makes it (PostgreSQL delivers it at commit). Each instance keeps a heartbeat row:
// operations sent by an instance that stopped beating go back to the queue.
import { createHmac, randomUUID } from 'node:crypto';

import pg from 'pg';

import {
  ACCOUNT_COLUMNS,
  alertOf,
  alertType,
  alertWhere,
  columnValue,
  deviceOf,
  fromJson,
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
import type {
  AccountPatch,
  AlertQuery,
  AlertRow,
  DeviceJobRow,
  CampaignRow,
  DistributionDeviceRow,
  DistributionRow,
  DeviceRow,
  DoubtResolution,
  OperationFinish,
  OperationRow,
  OperationState,
  PushRelay,
  ServerStore,
  SessionOwners,
  SharedImages,
  SharedTraces,
  StoreChange,
  TraceRow,
} from '../server.ts';
import type { StoreHealth } from '../health.ts';
import {
  type BeyondStep,
  beyondSql,
  DEVICE_RANGE_SQL,
  deleteKeysSql,
  type HistoryKind,
  nextCursor,
  numbered,
  olderSql,
  type PerDeviceKind,
} from '../history.ts';
import { IMAGE_MIGRATIONS, IMAGE_TABLES, pgImages } from './images.ts';
import { connectError, PgPool } from './pool.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE devices (
     device_id TEXT PRIMARY KEY, scheme TEXT NOT NULL, client_name TEXT NOT NULL, client_password TEXT NOT NULL,
     server_name TEXT, server_password TEXT, client_nonce BYTEA, server_nonce BYTEA, notify_address TEXT,
     dev_info TEXT NOT NULL DEFAULT '{}', created_at BIGINT NOT NULL, last_seen BIGINT);
   CREATE TABLE operations (
     seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,
     device_id TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
     kind TEXT NOT NULL, target TEXT NOT NULL, source TEXT, data_text TEXT, data_blob BYTEA, format TEXT, type TEXT,
     correlator TEXT, state TEXT NOT NULL, status INTEGER, results TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
     sent_by TEXT);
   CREATE INDEX operations_device_state ON operations(device_id, state, seq);
   CREATE INDEX operations_sent ON operations(sent_by) WHERE state = 'sent';
   CREATE TABLE alerts (
     id BIGSERIAL PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
     code INTEGER NOT NULL, correlator TEXT, items TEXT NOT NULL, received_at BIGINT NOT NULL);
   CREATE INDEX alerts_device ON alerts(device_id, id);
   CREATE TABLE device_locations (device_id TEXT PRIMARY KEY, gateway_id TEXT NOT NULL, at BIGINT NOT NULL);
   CREATE TABLE device_jobs (id TEXT PRIMARY KEY, device_id TEXT NOT NULL, correlator TEXT, record TEXT NOT NULL);
   CREATE INDEX device_jobs_device ON device_jobs(device_id);
   CREATE INDEX device_jobs_correlator ON device_jobs(correlator);
   CREATE TABLE server_instances (id TEXT PRIMARY KEY, started_at BIGINT NOT NULL, beat_at BIGINT NOT NULL);`,
  // which instance holds a device's push-channel poll (the newest poll wins)
  `CREATE TABLE push_polls (device_id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, since BIGINT NOT NULL);`,
  IMAGE_TABLES,
  // per-device session profiles, and why an operation failed or was queued again
  `ALTER TABLE devices ADD COLUMN session_profile TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE operations ADD COLUMN note TEXT;`,
  // alerts listed fleet-wide by Type (the first item's; byte order, so a prefix is a range) and by time
  `ALTER TABLE alerts ADD COLUMN type TEXT;
   UPDATE alerts SET type = items::json->0->>'type';
   CREATE INDEX alerts_type ON alerts((type COLLATE "C"), id);
   CREATE INDEX alerts_received ON alerts(received_at, id);`,
  // operations that may be sent again when whether they ran is unknown (in doubt otherwise)
  `ALTER TABLE operations ADD COLUMN retry TEXT;`,
  // whether the device's poll is open now, and a Package#0 kept for its next poll while none is
  `ALTER TABLE push_polls ADD COLUMN open BOOLEAN NOT NULL DEFAULT false, ADD COLUMN held BYTEA;`,
  // recent DM session traces of every instance (a capped set, not a history)
  `CREATE TABLE trace_sessions (id TEXT PRIMARY KEY, device_id TEXT NOT NULL, started_at BIGINT NOT NULL,
     summary TEXT NOT NULL, messages TEXT NOT NULL);
   CREATE INDEX trace_sessions_started ON trace_sessions(started_at DESC, id DESC);`,
  // retention: finished history found by age without reading what is still open; a device's operations
  // newest first (the API's list) without sorting its history; docs/scale.md, History
  `ALTER TABLE device_jobs ADD COLUMN state TEXT;
   ALTER TABLE device_jobs ADD COLUMN updated_at BIGINT;
   UPDATE device_jobs SET state = record::json->>'state', updated_at = (record::json->>'updatedAt')::bigint;
   CREATE INDEX device_jobs_done ON device_jobs(updated_at) WHERE state = 'done';
   CREATE INDEX operations_finished ON operations(updated_at) WHERE state IN ('done', 'failed');
   CREATE INDEX operations_device_seq ON operations(device_id, seq);`,
  // image distributions and each device's part in them (src/server/distributions.ts)
  `CREATE TABLE distributions (id TEXT PRIMARY KEY, gateway_id TEXT NOT NULL, created_at BIGINT NOT NULL, record TEXT NOT NULL);
   CREATE INDEX distributions_created ON distributions(created_at);
   CREATE TABLE distribution_devices (
     distribution_id TEXT NOT NULL, device_id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (distribution_id, device_id));
   CREATE INDEX distribution_devices_device ON distribution_devices(device_id);`,
  // where the other instances reach each one's DM endpoint (sessions forwarded to their owner)
  `ALTER TABLE server_instances ADD COLUMN dm_url TEXT;`,
  // the fleet's DM sessions per minute (GET /api/stats/sessions): each instance adds its counts
  `CREATE TABLE session_minutes (minute BIGINT PRIMARY KEY, sessions BIGINT NOT NULL, failures BIGINT NOT NULL);`,
  // staged rollouts over distributions (src/server/campaigns.ts)
  `CREATE TABLE campaigns (id TEXT PRIMARY KEY, created_at BIGINT NOT NULL, record TEXT NOT NULL);
   CREATE INDEX campaigns_created ON campaigns(created_at);`,
  // a LAN device's next server secret while it is being rotated (docs/security.md, Package#0 secrets)
  `ALTER TABLE devices ADD COLUMN server_password_next TEXT;`,
  // rotations of it the device refused in a row (src/gateway/server-secret.ts gives up at 3)
  `ALTER TABLE devices ADD COLUMN server_secret_failures INTEGER;`,
];

type DevicePatch = Parameters<ServerStore['updateDevice']>[1];
/** key prefix of a device row's writes held until COMMIT */
const DEVICE_WRITE = 'device:';
/** a batch fact: the device's queue was empty when this batch looked the device up */
const NOTHING_QUEUED = 'empty:';

const CHANNEL = 'gwmo_changes';
/** `<instance> <device id, URI-encoded> <Package#0 base64>`: only the named instance acts on it */
const PUSH_CHANNEL = 'gwmo_push';
/** an instance silent this long is taken for dead and its sent operations are queued again */
const BEAT_MS = 5_000;
const DEAD_AFTER_MS = 3 * BEAT_MS;

/** an instance's session-key prefix: the first 8 hex digits of its id */
function sessionTag(instanceId: string): string {
  return instanceId.replaceAll('-', '').slice(0, 8);
}

export interface PgServerStoreOptions {
  /**
   * connections in the pool (a batch holds one from its BEGIN to its COMMIT; 10 by default, pg's
   * own default). More than PostgreSQL has cores to run them buys queueing in PostgreSQL instead of here.
   */
  readonly poolSize?: number;
  /** how long a statement outside a transaction (a check-in's UPDATE) waits for a row lock; 5 s by default */
  readonly lockTimeoutMs?: number;
  /** called when the change listener loses its connection and when it is back */
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

export class PgServerStore implements ServerStore {
  readonly instanceId = randomUUID();
  private readonly db: PgPool;
  readonly images: SharedImages;
  private readonly url: string;
  private readonly log: NonNullable<PgServerStoreOptions['log']>;
  private readonly listeners: ((change: StoreChange) => void)[] = [];
  private readonly pushListeners: ((deviceId: string, bytes: Uint8Array) => void)[] = [];
  private listener: pg.Client | undefined;
  private beat: NodeJS.Timeout | undefined;
  private closed = false;
  /** the LISTEN connection is down: its loss was logged once, its return will be */
  private listenLost = false;

  private constructor(url: string, options: PgServerStoreOptions) {
    this.url = url;
    this.db = new PgPool(url, options.poolSize ?? 10, options.lockTimeoutMs);
    this.images = pgImages(this.db);
    this.log = options.log ?? (() => {});
  }

  get health(): StoreHealth {
    return this.db.health;
  }

  /** Connects, migrates, registers this instance and starts its heartbeat. */
  static async open(url: string, options: PgServerStoreOptions = {}): Promise<PgServerStore> {
    const store = new PgServerStore(url, options);
    try {
      await store.db.migrate('server', MIGRATIONS);
      await store.db.migrate('images', IMAGE_MIGRATIONS); // a component of its own: image changes never renumber the server's
    } catch (err) {
      await store.db.close().catch(() => undefined);
      throw (err as { code?: string }).code !== undefined ? connectError(url, err) : err;
    }
    await store.heartbeat();
    await store.listen();
    store.beat = setInterval(
      () =>
        void store
          .heartbeat()
          .then(() => store.requeueOrphans())
          .catch(() => undefined),
      BEAT_MS,
    );
    store.beat.unref();
    return store;
  }

  private async heartbeat(): Promise<void> {
    const now = Date.now();
    await this.db.query(
      `INSERT INTO server_instances (id, started_at, beat_at) VALUES ($1, $2, $2)
      ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at`,
      [this.instanceId, now],
    );
  }

  /** operations sent by instances that stopped beating (crashed) go back to the queue, or are in doubt; `mine`: this one's too */
  private async requeueOrphans(mine = false): Promise<number> {
    const now = Date.now();
    // one statement: an Add, Exec or Copy the stopped instance had sent is in doubt, never queued again
    const rows = await this.db.query(
      `UPDATE operations SET sent_by = NULL, updated_at = $1,
        state = CASE WHEN ${RESENDABLE_SQL} THEN 'queued' ELSE 'indoubt' END,
        note = CASE WHEN ${RESENDABLE_SQL} THEN note ELSE $4 END
      WHERE state = 'sent' AND (sent_by IS NULL OR sent_by = $3 OR sent_by NOT IN (SELECT id FROM server_instances WHERE beat_at > $2))
      RETURNING id, state`,
      [now, now - DEAD_AFTER_MS, mine ? this.instanceId : '', ORPHAN_DOUBT_NOTE],
    );
    // whoever waits for an outcome (a ?wait, a gateway's job) hears that this one will not come
    let queued = 0;
    for (const r of rows) {
      if (r['state'] === 'queued') queued++;
      else await this.notify({ kind: 'operation', id: String(r['id']) });
    }
    await this.db.query('DELETE FROM server_instances WHERE beat_at <= $1', [now - 10 * DEAD_AFTER_MS]);
    await this.db.query('DELETE FROM push_polls WHERE instance_id NOT IN (SELECT id FROM server_instances)');
    return queued;
  }

  private notify(change: StoreChange): Promise<Row[]> {
    return this.db.query('SELECT pg_notify($1, $2)', [CHANNEL, `${change.kind}:${change.id}`]);
  }

  watch(listener: (change: StoreChange) => void): void {
    this.listeners.push(listener);
  }

  /** one connection per instance LISTENs from the start, so no change made after open() is missed */
  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    this.listener = client;
    client.on('notification', (n) => {
      if (n.channel === PUSH_CHANNEL) {
        const [to, device, bytes] = (n.payload ?? '').split(' ');
        if (to !== this.instanceId || !device || !bytes) return;
        for (const l of this.pushListeners) l(decodeURIComponent(device), Buffer.from(bytes, 'base64'));
        return;
      }
      const [kind, ...id] = (n.payload ?? '').split(':');
      if (kind !== 'operation' && kind !== 'deviceJob' && kind !== 'alert') return;
      for (const l of this.listeners) l({ kind, id: id.join(':') });
    });
    let lost = false;
    const reconnect = (err: Error): void => {
      if (lost || this.closed) return;
      lost = true;
      // once per outage: a reconnection that fails again (PostgreSQL still down) says nothing new
      if (!this.listenLost) this.log('store.listen.lost', { error: err.message });
      this.listenLost = true;
      void client.end().catch(() => undefined);
      setTimeout(() => void this.listen(), 1000).unref();
    };
    client.on('error', reconnect);
    client.on('end', () => reconnect(new Error('the LISTEN connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      await client.query(`LISTEN ${PUSH_CHANNEL}`);
      if (this.listenLost) this.log('store.listen.back', {});
      this.listenLost = false;
    } catch (err) {
      reconnect(err instanceof Error ? err : new Error(String(err)));
    }
  }

  readonly traces: SharedTraces = {
    idPrefix: `${this.instanceId.slice(0, 8)}-`,
    save: async (put, gone, cap) => {
      if (put.length > 0)
        await this.db.query(
          `INSERT INTO trace_sessions (id, device_id, started_at, summary, messages)
          SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])
          ON CONFLICT (id) DO UPDATE SET summary = excluded.summary, messages = excluded.messages`,
          [
            put.map((r) => r.id),
            put.map((r) => r.deviceId),
            put.map((r) => String(r.startedAt)),
            put.map((r) => r.summary),
            put.map((r) => r.messages),
          ],
        );
      if (gone.length > 0) await this.db.query('DELETE FROM trace_sessions WHERE id = ANY($1)', [gone]);
      await this.db.query(
        'DELETE FROM trace_sessions WHERE id IN (SELECT id FROM trace_sessions ORDER BY started_at DESC, id DESC OFFSET $1)',
        [cap],
      );
    },
    list: async ({ deviceId, limit, offset }) => {
      const rows = await this.db.query(
        `SELECT id, device_id, started_at, summary, '' AS messages, count(*) OVER () AS total FROM trace_sessions
        WHERE $1::text IS NULL OR device_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3`,
        [deviceId ?? null, limit, offset],
      );
      const total =
        rows.length > 0
          ? Number(rows[0]!['total'])
          : Number(
              (
                await this.db.query('SELECT count(*) AS n FROM trace_sessions WHERE $1::text IS NULL OR device_id = $1', [deviceId ?? null])
              )[0]!['n'],
            );
      return { rows: rows.map(traceOf), total };
    },
    get: async (id) => {
      const r = (await this.db.query('SELECT * FROM trace_sessions WHERE id = $1', [id]))[0];
      return r ? traceOf(r) : undefined;
    },
    addMinutes: async (counts, keepFrom) => {
      if (counts.length > 0)
        await this.db.query(
          `INSERT INTO session_minutes (minute, sessions, failures)
          SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
          ON CONFLICT (minute) DO UPDATE SET sessions = session_minutes.sessions + excluded.sessions,
            failures = session_minutes.failures + excluded.failures`,
          [counts.map((c) => String(c.minute)), counts.map((c) => String(c.sessions)), counts.map((c) => String(c.failures))],
        );
      await this.db.query('DELETE FROM session_minutes WHERE minute < $1', [String(keepFrom)]);
    },
    minutes: async (from, to) =>
      (
        await this.db.query('SELECT minute, sessions, failures FROM session_minutes WHERE minute BETWEEN $1 AND $2', [
          String(from),
          String(to),
        ])
      ).map((r) => ({ minute: Number(r['minute']), sessions: Number(r['sessions']), failures: Number(r['failures']) })),
  };

  // the row is the lock: opening a poll and offering a Package#0 take it in turn, so a Package#0 is
  // either handed to the open poll's instance or kept where the next poll finds it, never lost between
  readonly pushRelay: PushRelay = {
    opened: async (deviceId, since) => {
      // what is kept stays until taken: a Package#0 offered meanwhile finds the poll open and is relayed here
      const rows = await this.db.query(
        `INSERT INTO push_polls (device_id, instance_id, since, open) VALUES ($1, $2, $3, true)
        ON CONFLICT (device_id) DO UPDATE SET instance_id = excluded.instance_id, since = excluded.since, open = true
        RETURNING held`,
        [deviceId, this.instanceId, since],
      );
      const held = rows[0]?.['held'];
      if (!(held instanceof Uint8Array)) return undefined;
      await this.db.query('UPDATE push_polls SET held = NULL WHERE device_id = $1 AND held = $2', [deviceId, held]);
      return new Uint8Array(held);
    },
    closed: async (deviceId, since) => {
      await this.db.query('UPDATE push_polls SET open = false WHERE device_id = $1 AND instance_id = $2 AND since = $3', [
        deviceId,
        this.instanceId,
        since,
      ]);
    },
    offer: async (deviceId, bytes) => {
      // an open poll on a live instance gets it relayed ('self': this one); otherwise it is kept
      const rows = await this.db.query(
        `INSERT INTO push_polls (device_id, instance_id, since, open, held) VALUES ($1, '', 0, false, $2)
        ON CONFLICT (device_id) DO UPDATE SET held = CASE
          WHEN push_polls.open AND push_polls.instance_id IN (SELECT id FROM server_instances WHERE beat_at > $4) THEN push_polls.held
          ELSE excluded.held END
        RETURNING CASE WHEN open AND instance_id IN (SELECT id FROM server_instances WHERE beat_at > $4)
          THEN (CASE WHEN instance_id = $3 THEN 'self' ELSE instance_id END) END AS holder`,
        [deviceId, bytes, this.instanceId, Date.now() - DEAD_AFTER_MS],
      );
      const holder = rows[0]?.['holder'];
      return typeof holder === 'string' ? holder : undefined;
    },
    holder: async (deviceId, since) => {
      const r = (
        await this.db.query(
          `SELECT p.instance_id FROM push_polls p JOIN server_instances i ON i.id = p.instance_id
        WHERE p.device_id = $1 AND p.since > $2 AND p.instance_id <> $3 AND i.beat_at > $4`,
          [deviceId, since, this.instanceId, Date.now() - DEAD_AFTER_MS],
        )
      )[0];
      return r ? String(r['instance_id']) : undefined;
    },
    send: async (instanceId, deviceId, bytes) => {
      await this.db.query('SELECT pg_notify($1, $2)', [
        PUSH_CHANNEL,
        `${instanceId} ${encodeURIComponent(deviceId)} ${Buffer.from(bytes).toString('base64')}`,
      ]);
    },
    onPush: (listener) => {
      this.pushListeners.push(listener);
    },
  };

  readonly sessionOwners: SessionOwners = {
    tag: sessionTag(this.instanceId),
    advertise: async (dmUrl) => {
      await this.db.query('UPDATE server_instances SET dm_url = $2 WHERE id = $1', [this.instanceId, dmUrl]);
    },
    addresses: async () => {
      const rows = await this.db.query(
        `SELECT id, dm_url FROM server_instances WHERE dm_url IS NOT NULL AND beat_at > $1 ORDER BY beat_at`,
        [Date.now() - DEAD_AFTER_MS],
      );
      return new Map(rows.map((r) => [sessionTag(String(r['id'])), String(r['dm_url'])]));
    },
    // derived from the image link key (a secret every instance shares) for this use only
    forwardKey: async () =>
      new Uint8Array(
        createHmac('sha256', await this.images.linkKey())
          .update('gwmo session forward')
          .digest(),
      ),
  };

  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`PostgreSQL did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.db.query('SELECT 1', [], { read: true }), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  batch<T>(work: () => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async putDevice(d: DeviceRow): Promise<void> {
    await this.db.flushDeferred(DEVICE_WRITE);
    await this.db.query(
      `INSERT INTO devices (${NEW_DEVICE_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
      ON CONFLICT(device_id) DO UPDATE SET scheme=excluded.scheme, client_name=excluded.client_name,
        client_password=excluded.client_password, server_name=excluded.server_name, server_password=excluded.server_password,
        notify_address=excluded.notify_address`,
      newDeviceValues(d),
    );
  }

  async insertDevice(d: DeviceRow): Promise<boolean> {
    await this.db.flushDeferred(DEVICE_WRITE);
    const rows = await this.db.query(
      `INSERT INTO devices (${NEW_DEVICE_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
      ON CONFLICT(device_id) DO NOTHING RETURNING device_id`,
      newDeviceValues(d),
    );
    return rows.length === 1;
  }

  async changeAccount(deviceId: string, patch: AccountPatch): Promise<DeviceRow | undefined> {
    await this.db.flushDeferred(DEVICE_WRITE);
    const entries = Object.entries(patch) as [keyof AccountPatch, unknown][];
    const sets = entries.map(([k], i) => `${ACCOUNT_COLUMNS[k]} = $${i + 1}`);
    const r = (
      await this.db.query(
        `UPDATE devices SET ${sets.join(', ') || 'device_id = device_id'} WHERE device_id = $${entries.length + 1} RETURNING *`,
        [...entries.map(([k, v]) => columnValue(k, v)), deviceId],
      )
    )[0];
    return r ? deviceOf(r) : undefined;
  }

  async getDevice(deviceId: string): Promise<DeviceRow | undefined> {
    await this.db.flushDeferred(DEVICE_WRITE);
    const r = (await this.db.query('SELECT * FROM devices WHERE device_id = $1', [deviceId]))[0];
    return r ? deviceOf(r) : undefined;
  }

  async touchDevice(deviceId: string, now: number): Promise<DeviceRow | undefined> {
    await this.db.flushDeferred(DEVICE_WRITE);
    // a read: LastSeen joins the message's other writes to the row (one new row version, not two);
    // whether anything is queued rides along: most check-ins find nothing, and their take needs no round trip
    const r = (
      await this.db.query(
        `SELECT *, EXISTS (SELECT 1 FROM operations o WHERE o.device_id = d.device_id AND o.state = 'queued') AS queued
      FROM devices d WHERE device_id = $1`,
        [deviceId],
        { read: true },
      )
    )[0];
    if (!r) return undefined;
    if (r['queued'] === false) this.db.facts().add(NOTHING_QUEUED + deviceId);
    await this.updateDevice(deviceId, { lastSeen: now });
    return { ...deviceOf(r), lastSeen: now };
  }

  async listDevices(options: { limit?: number; offset?: number } = {}): Promise<DeviceRow[]> {
    await this.db.flushDeferred(DEVICE_WRITE);
    return (
      await this.db.query('SELECT * FROM devices ORDER BY device_id LIMIT $1 OFFSET $2', [options.limit ?? null, options.offset ?? 0])
    ).map(deviceOf);
  }

  async deleteDevice(deviceId: string): Promise<boolean> {
    await this.db.flushDeferred(DEVICE_WRITE);
    return (await this.db.query('DELETE FROM devices WHERE device_id = $1 RETURNING device_id', [deviceId])).length > 0;
  }

  async updateDevice(deviceId: string, patch: DevicePatch): Promise<void> {
    // in a DM message (nonces, DevInfo) the writes to the device's row go out as one UPDATE with COMMIT
    const held = this.db.deferred<DevicePatch>(
      DEVICE_WRITE + deviceId,
      () => ({}),
      (all) => this.writeDevice(deviceId, all),
    );
    if (held) Object.assign(held, patch);
    else await this.writeDevice(deviceId, patch);
  }

  private async writeDevice(deviceId: string, patch: DevicePatch): Promise<void> {
    const sets: string[] = [];
    const values: (string | number | Uint8Array | null)[] = [];
    for (const [key, value] of Object.entries(patch) as [keyof typeof UPDATE_COLUMNS, unknown][]) {
      values.push(columnValue(key, value));
      sets.push(`${UPDATE_COLUMNS[key]} = $${values.length}`);
    }
    if (sets.length > 0)
      await this.db.query(`UPDATE devices SET ${sets.join(', ')} WHERE device_id = $${values.length + 1}`, [...values, deviceId]);
  }

  async queueOperation(op: Omit<OperationRow, 'state' | 'createdAt' | 'updatedAt'>, now: number): Promise<OperationRow> {
    this.db.facts().delete(NOTHING_QUEUED + op.deviceId);
    const rows = await this.db.query(
      `INSERT INTO operations (id, device_id, kind, target, source, data_text, data_blob, format, type, correlator,
        state, created_at, updated_at, retry) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'queued',$11,$11,$12) RETURNING *`,
      [
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
        now,
        op.retry ?? null,
      ],
    );
    return operationOf(rows[0]!);
  }

  async getOperation(id: string): Promise<OperationRow | undefined> {
    const r = (await this.db.query('SELECT * FROM operations WHERE id = $1', [id]))[0];
    return r ? operationOf(r) : undefined;
  }

  async listOperations(
    deviceId: string,
    options: { limit?: number; offset?: number; state?: OperationState } = {},
  ): Promise<OperationRow[]> {
    return (
      await this.db.query(
        'SELECT * FROM operations WHERE device_id = $1 AND ($4::text IS NULL OR state = $4) ORDER BY seq DESC LIMIT $2 OFFSET $3',
        [deviceId, options.limit ?? null, options.offset ?? 0, options.state ?? null],
      )
    ).map(operationOf);
  }

  async takeOperations(deviceId: string, limit: number, now: number): Promise<OperationRow[]> {
    // an operation queued by someone else since the lookup, moments ago, waits for the next take, as
    // one queued just after this take would: the device is told of it either way
    if (this.db.facts().has(NOTHING_QUEUED + deviceId)) return [];
    // SKIP LOCKED: a session on another instance taking this device's queue at the same moment gets other rows, never the same
    const rows = await this.db.query(
      `UPDATE operations SET state = 'sent', sent_by = $4, updated_at = $1 WHERE seq IN (
        SELECT seq FROM operations WHERE device_id = $2 AND state = 'queued' ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *`,
      [now, deviceId, limit, this.instanceId],
    );
    return rows.sort((a, b) => Number(a['seq']) - Number(b['seq'])).map(operationOf);
  }

  async finishOperation(id: string, outcome: OperationFinish, now: number): Promise<OperationRow | undefined> {
    return this.db.transaction(async () => {
      const rows = await this.db.query(
        'UPDATE operations SET state = $1, status = $2, results = $3, note = $6, sent_by = NULL, updated_at = $4 WHERE id = $5 RETURNING *',
        [outcome.state, outcome.status ?? null, outcome.results ? toJson(outcome.results) : null, now, id, outcome.note ?? null],
      );
      await this.notify({ kind: 'operation', id });
      return rows[0] ? operationOf(rows[0]) : undefined;
    });
  }

  async requeueOperations(ids: readonly string[], now: number, note?: string): Promise<void> {
    this.db.facts().clear();
    await this.db.query(
      `UPDATE operations SET state = 'queued', sent_by = NULL, note = coalesce($3, note), updated_at = $1 WHERE id = ANY($2) AND state = 'sent'`,
      [now, ids, note ?? null],
    );
  }

  async requeueAllSent(_now: number): Promise<number> {
    // what this process and dead instances sent: the other instances' sessions are still open
    return this.requeueOrphans(true);
  }

  async resolveOperation(id: string, resolution: DoubtResolution, now: number, note: string): Promise<OperationRow | undefined> {
    const [state, status] = RESOLVED[resolution];
    return this.db.transaction(async () => {
      const rows = await this.db.query(
        `UPDATE operations SET state = $1, status = $2, note = $3, updated_at = $4 WHERE id = $5 AND state = 'indoubt' RETURNING *`,
        [state, status, note, now, id],
      );
      if (rows.length === 0) return undefined;
      const op = operationOf(rows[0]!);
      if (state === 'queued') this.db.facts().delete(NOTHING_QUEUED + op.deviceId);
      await this.notify({ kind: 'operation', id });
      return op;
    });
  }

  async cancelOperation(id: string, status: number, now: number): Promise<boolean> {
    return this.db.transaction(async () => {
      const rows = await this.db.query(
        `UPDATE operations SET state = 'failed', status = $1, sent_by = NULL, updated_at = $2
        WHERE id = $3 AND state IN ('queued', 'sent', 'accepted') RETURNING id`,
        [status, now, id],
      );
      if (rows.length > 0) await this.notify({ kind: 'operation', id });
      return rows.length > 0;
    });
  }

  async listAccepted(deviceId: string, limit: number): Promise<OperationRow[]> {
    return (
      await this.db.query(`SELECT * FROM operations WHERE device_id = $1 AND state = 'accepted' ORDER BY seq LIMIT $2`, [deviceId, limit])
    ).map(operationOf);
  }

  async findAcceptedByCorrelator(deviceId: string, correlator: string): Promise<OperationRow | undefined> {
    const r = (
      await this.db.query(
        `SELECT * FROM operations WHERE device_id = $1 AND correlator = $2 AND state = 'accepted' ORDER BY seq DESC LIMIT 1`,
        [deviceId, correlator],
      )
    )[0];
    return r ? operationOf(r) : undefined;
  }

  async setLocation(deviceId: string, gatewayId: string, now: number): Promise<void> {
    await this.db.query(
      'INSERT INTO device_locations (device_id, gateway_id, at) VALUES ($1, $2, $3) ON CONFLICT(device_id) DO UPDATE SET gateway_id = excluded.gateway_id, at = excluded.at',
      [deviceId, gatewayId, now],
    );
  }

  async getLocation(deviceId: string): Promise<{ gatewayId: string; at: number } | undefined> {
    const r = (await this.db.query('SELECT gateway_id, at FROM device_locations WHERE device_id = $1', [deviceId]))[0];
    return r ? { gatewayId: String(r['gateway_id']), at: Number(r['at']) } : undefined;
  }

  async putDeviceJob(job: DeviceJobRow): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.query(
        `INSERT INTO device_jobs (id, device_id, correlator, record, state, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT(id) DO UPDATE SET correlator = excluded.correlator, record = excluded.record, state = excluded.state, updated_at = excluded.updated_at`,
        [job.id, job.deviceId, job.correlator ?? null, toJson(job), job.state, job.updatedAt],
      );
      await this.notify({ kind: 'deviceJob', id: job.id });
    });
  }

  async getDeviceJob(id: string): Promise<DeviceJobRow | undefined> {
    const r = (await this.db.query('SELECT record FROM device_jobs WHERE id = $1', [id]))[0];
    return r ? fromJson<DeviceJobRow>(String(r['record'])) : undefined;
  }

  async findDeviceJob(correlator: string): Promise<DeviceJobRow | undefined> {
    const r = (await this.db.query('SELECT record FROM device_jobs WHERE correlator = $1', [correlator]))[0];
    return r ? fromJson<DeviceJobRow>(String(r['record'])) : undefined;
  }

  async listDeviceJobs(deviceId: string): Promise<DeviceJobRow[]> {
    return (await this.db.query('SELECT record FROM device_jobs WHERE device_id = $1', [deviceId])).map((r) =>
      fromJson<DeviceJobRow>(String(r['record'])),
    );
  }

  async putDistribution(d: DistributionRow): Promise<void> {
    await this.db.query(
      'INSERT INTO distributions (id, gateway_id, created_at, record) VALUES ($1, $2, $3, $4) ON CONFLICT(id) DO UPDATE SET record = excluded.record',
      [d.id, d.gatewayId, d.createdAt, toJson(d)],
    );
  }

  async insertDistribution(d: DistributionRow): Promise<boolean> {
    const rows = await this.db.query(
      'INSERT INTO distributions (id, gateway_id, created_at, record) VALUES ($1, $2, $3, $4) ON CONFLICT(id) DO NOTHING RETURNING id',
      [d.id, d.gatewayId, d.createdAt, toJson(d)],
    );
    return rows.length === 1;
  }

  async getDistribution(id: string): Promise<DistributionRow | undefined> {
    const r = (await this.db.query('SELECT record FROM distributions WHERE id = $1', [id]))[0];
    return r ? fromJson<DistributionRow>(String(r['record'])) : undefined;
  }

  async listDistributions(o: { gatewayId?: string; limit: number }): Promise<DistributionRow[]> {
    const rows =
      o.gatewayId === undefined
        ? await this.db.query('SELECT record FROM distributions ORDER BY created_at DESC, id LIMIT $1', [o.limit])
        : await this.db.query('SELECT record FROM distributions WHERE gateway_id = $1 ORDER BY created_at DESC, id LIMIT $2', [
            o.gatewayId,
            o.limit,
          ]);
    return rows.map((r) => fromJson<DistributionRow>(String(r['record'])));
  }

  async putDistributionDevices(rows: readonly DistributionDeviceRow[]): Promise<void> {
    if (rows.length === 0) return;
    // one statement per 1,000 rows: a 10,000-device distribution is 10 round trips, not 10,000
    for (let i = 0; i < rows.length; i += 1000) {
      const part = rows.slice(i, i + 1000);
      await this.db.query(
        `INSERT INTO distribution_devices (distribution_id, device_id, record) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
         ON CONFLICT(distribution_id, device_id) DO UPDATE SET record = excluded.record`,
        [part.map((r) => r.distributionId), part.map((r) => r.deviceId), part.map((r) => toJson(r))],
      );
    }
  }

  async listDistributionDevices(distributionId: string): Promise<DistributionDeviceRow[]> {
    return (
      await this.db.query('SELECT record FROM distribution_devices WHERE distribution_id = $1 ORDER BY device_id', [distributionId])
    ).map((r) => fromJson<DistributionDeviceRow>(String(r['record'])));
  }

  async listDeviceDistributions(deviceId: string): Promise<DistributionDeviceRow[]> {
    return (await this.db.query('SELECT record FROM distribution_devices WHERE device_id = $1', [deviceId])).map((r) =>
      fromJson<DistributionDeviceRow>(String(r['record'])),
    );
  }

  async putCampaign(c: CampaignRow): Promise<void> {
    await this.db.query(
      'INSERT INTO campaigns (id, created_at, record) VALUES ($1, $2, $3) ON CONFLICT(id) DO UPDATE SET record = excluded.record',
      [c.id, c.createdAt, toJson(c)],
    );
  }

  async getCampaign(id: string): Promise<CampaignRow | undefined> {
    const r = (await this.db.query('SELECT record FROM campaigns WHERE id = $1', [id]))[0];
    return r ? fromJson<CampaignRow>(String(r['record'])) : undefined;
  }

  async listCampaigns(limit: number): Promise<CampaignRow[]> {
    return (await this.db.query('SELECT record FROM campaigns ORDER BY created_at DESC, id LIMIT $1', [limit])).map((r) =>
      fromJson<CampaignRow>(String(r['record'])),
    );
  }

  async addAlert(a: Omit<AlertRow, 'id'>): Promise<AlertRow> {
    return this.db.transaction(async () => {
      const r = (
        await this.db.query(
          'INSERT INTO alerts (device_id, code, correlator, items, received_at, type) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id',
          [a.deviceId, a.code, a.correlator ?? null, toJson(a.items), a.receivedAt, alertType(a)],
        )
      )[0]!;
      // every instance's alert streams hear of it once it commits
      await this.notify({ kind: 'alert', id: String(r['id']) });
      return { ...a, id: Number(r['id']) };
    });
  }

  async listAlerts(deviceId: string, options: { limit?: number } = {}): Promise<AlertRow[]> {
    return (
      await this.db.query('SELECT * FROM alerts WHERE device_id = $1 ORDER BY id DESC LIMIT $2', [deviceId, options.limit ?? 100])
    ).map(alertOf);
  }

  async queryAlerts(q: AlertQuery): Promise<AlertRow[]> {
    const { where, values } = alertWhere(q, 'type COLLATE "C"');
    let n = 0;
    const sql = `SELECT * FROM alerts ${where.replace(/\?/g, () => `$${++n}`)} ORDER BY id DESC LIMIT $${n + 1} OFFSET $${n + 2}`;
    return (await this.db.query(sql, [...values, q.limit, q.offset ?? 0])).map(alertOf);
  }

  async getAlert(id: number): Promise<AlertRow | undefined> {
    const r = (await this.db.query('SELECT * FROM alerts WHERE id = $1', [id]))[0];
    return r ? alertOf(r) : undefined;
  }

  // two instances pruning at once is safe: the age prune skips rows another has locked, the per-device
  // prune deletes rows by key (a row already gone is no error); neither touches what is still open
  async pruneOlder(kind: HistoryKind, before: number, limit: number): Promise<number> {
    return (await this.db.query(`${numbered(olderSql(kind, true))} RETURNING 1`, [before, limit])).length;
  }

  async pruneBeyond(kind: PerDeviceKind, keep: number, cursor: string, devices: number, limit: number): Promise<BeyondStep> {
    const range = (await this.db.query(numbered(DEVICE_RANGE_SQL), [cursor, devices])).map((r) => String(r['device_id']));
    if (range.length === 0) return { removed: 0, next: undefined };
    const keys = (await this.db.query(numbered(beyondSql(kind)), [cursor, range[range.length - 1]!, keep, limit])).map((r) =>
      String(r['k']),
    );
    const removed = keys.length === 0 ? 0 : (await this.db.query(`${numbered(deleteKeysSql(kind, true))} RETURNING 1`, [keys])).length;
    return { removed, next: nextCursor(cursor, range, devices, keys.length, limit) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.beat) clearInterval(this.beat);
    await this.listener?.end().catch(() => undefined);
    // a clean stop: whatever this instance still had out goes back to the queue at once, but an Add,
    // Exec or Copy that may have reached the device (in doubt)
    await this.db
      .query(
        `UPDATE operations SET sent_by = NULL, updated_at = $1,
          state = CASE WHEN ${RESENDABLE_SQL} THEN 'queued' ELSE 'indoubt' END,
          note = CASE WHEN ${RESENDABLE_SQL} THEN note ELSE $3 END
        WHERE state = 'sent' AND sent_by = $2`,
        [Date.now(), this.instanceId, ORPHAN_DOUBT_NOTE],
      )
      .catch(() => undefined);
    await this.db.query('DELETE FROM push_polls WHERE instance_id = $1', [this.instanceId]).catch(() => undefined);
    await this.db.query('DELETE FROM server_instances WHERE id = $1', [this.instanceId]).catch(() => undefined);
    await this.db.close();
  }
}

function traceOf(r: Row): TraceRow {
  return {
    id: String(r['id']),
    deviceId: String(r['device_id']),
    startedAt: Number(r['started_at']),
    summary: String(r['summary']),
    messages: String(r['messages']),
  };
}
