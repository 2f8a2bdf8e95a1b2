// What the DM server keeps: device accounts, queued operations with their outcomes, and the
// alerts devices sent. Interfaces and row types only; sqlite/ (and later postgres/) implement them.
import type { StoreHealth } from './health.ts';
import type { BeyondStep, HistoryKind, PerDeviceKind } from './history.ts';

// values are strings, or bytes for binary formats (as the protocol's ItemData)
type ItemData = string | Uint8Array;

export interface DeviceRow {
  readonly deviceId: string;
  /** syncml:auth-basic | syncml:auth-md5 | syncml:auth-MAC */
  readonly scheme: string;
  /** CLCRED the device authenticates with */
  readonly clientName: string;
  readonly clientPassword: string;
  /** SRVCRED the server authenticates with to the device (optional) */
  readonly serverName?: string;
  readonly serverPassword?: string;
  /** a new SRVCRED secret sent to the device and not yet proven: both are kept until it is (src/gateway/server-secret.ts) */
  readonly serverPasswordNext?: string;
  /** rotations of the server secret the device refused in a row; at 3 it is no longer asked (src/gateway/server-secret.ts) */
  readonly serverSecretFailures?: number;
  readonly clientNonce?: Uint8Array;
  readonly serverNonce?: Uint8Array;
  /** where the device listens for Package#0 (`host:port`) */
  readonly notifyAddress?: string;
  readonly devInfo: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly lastSeen?: number;
  /** how the server shapes its sessions with this device (absent fields: the server's defaults) */
  readonly sessionProfile?: SessionProfileRow;
}

/** A device's session profile, as set by an operator and as learned from its sessions. */
export interface SessionProfileRow {
  /** commands per server message at most */
  readonly commandsPerMessage?: number;
  /** `<Meta><Format>` on every Item with Data, chr included (true unless set false) */
  readonly explicitFormat?: boolean;
  /** values too large for one message may go as large objects (true unless set false) */
  readonly largeObjects?: boolean;
  /** the server's own cap on the device's MaxMsgSize */
  readonly maxMsgSize?: number;
  /** learned: lowered each time the device dropped a session with commands unanswered */
  readonly effectiveCommandsPerMessage?: number;
  /** learned: DevDetail/LrgObj as the device reported it */
  readonly deviceLrgObj?: boolean;
}

export type AccountPatch = Partial<Pick<DeviceRow, 'scheme' | 'clientName' | 'clientPassword'>> & {
  readonly serverName?: string | null;
  readonly serverPassword?: string | null;
  readonly serverPasswordNext?: string | null;
  readonly serverSecretFailures?: number | null;
  readonly notifyAddress?: string | null;
  /** the nonce the device holds for the server's Cred (null: none known, the resync nonce is used) */
  readonly serverNonce?: Uint8Array | null;
  readonly sessionProfile?: SessionProfileRow;
};

/**
 * `indoubt`: sent, and no Status came back before its session broke (timeout, lost reply, the
 * instance stopped), for a command that must not run twice (Add, Exec, Copy): it is not sent again
 * unless its creator said so (`retry: 'always'`) or someone resolves it (docs/operations.md).
 */
export type OperationState = 'queued' | 'sent' | 'done' | 'failed' | 'accepted' | 'indoubt';

/** What an operation in doubt becomes when someone resolves it. */
export type DoubtResolution = 'retry' | 'failed' | 'done';

export interface OperationRow {
  readonly id: string;
  readonly deviceId: string;
  readonly kind: 'Get' | 'Replace' | 'Add' | 'Delete' | 'Exec' | 'Copy';
  readonly target: string;
  readonly source?: string;
  readonly data?: ItemData;
  readonly format?: string;
  readonly type?: string;
  readonly correlator?: string;
  /** 'always': sent again when its outcome is unknown, even an Add, Exec or Copy (its creator said running it twice is fine) */
  readonly retry?: 'always';
  readonly state: OperationState;
  readonly status?: number;
  readonly results?: readonly { uri: string; format?: string; type?: string; data?: ItemData }[];
  /** why it failed, or why it is queued again (e.g. the device refused the server's credentials) */
  readonly note?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface AlertRow {
  readonly id: number;
  readonly deviceId: string;
  readonly code: number;
  readonly correlator?: string;
  readonly items: readonly Record<string, unknown>[];
  readonly receivedAt: number;
}

/** Which alerts to list, newest first. */
export interface AlertQuery {
  readonly deviceId?: string;
  /** the first item's Type: equal to it, or starting with it when `typePrefix` */
  readonly type?: string;
  readonly typePrefix?: boolean;
  readonly code?: number;
  /** receivedAt ≥ since, < until (ms) */
  readonly since?: number;
  readonly until?: number;
  /** ids below this one only (a cursor: the last id of the page before) */
  readonly before?: number;
  /** ids above this one only (a stream resuming after its last event) */
  readonly after?: number;
  readonly limit: number;
  readonly offset?: number;
}

/** Commands for a device behind a gateway, carried out wherever the device is (HLF-002). */
export interface DeviceJobRow {
  readonly id: string;
  readonly deviceId: string;
  readonly commands: readonly { kind: string; path: string; value?: string; format?: string }[];
  readonly state: 'pending' | 'dispatched' | 'done';
  /** where it was last sent, the fanout there and its correlator */
  readonly gatewayId?: string;
  readonly fanout?: string;
  readonly correlator?: string;
  readonly status?: number;
  /** a command went out and no Status came back (docs/sessions.md "Operations in doubt"): not sent again */
  readonly inDoubt?: true;
  readonly results?: readonly { status: number; data?: ItemData; format?: string }[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Which update object a device is driven through (docs/updates.md). */
export type UpdateObject = 'fumo' | 'scomo' | 'lwm2m';

/** An image distributed to devices behind one gateway (src/server/distributions.ts). */
export interface DistributionRow {
  readonly id: string;
  readonly gatewayId: string;
  /** the image's name in the gateway's store, and what devices are given */
  readonly image: string;
  readonly url: string;
  readonly hash: string;
  readonly version: string;
  /** what the call asked for DM devices; LwM2M devices always get object 5 */
  readonly object: 'auto' | 'fumo' | 'scomo';
  readonly state: 'probing' | 'running' | 'done';
  /** the gateway fanouts carrying it: a probe of the DM devices' trees, then one per object */
  readonly fanouts: readonly {
    readonly name: string;
    readonly correlator: string;
    readonly object: UpdateObject | 'probe';
    /** the gateway reported its end (its results may still be unread) */
    readonly ended?: boolean;
    /** its results are in the devices' rows */
    readonly done: boolean;
    /** a follow (src/server/distribution-follow.ts): devices that moved, sent again from here */
    readonly follow?: DistributionFollow;
  }[];
  readonly timeout?: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A fanout that follows devices not reached at the gateway they left to the one now announcing them. */
export interface DistributionFollow {
  readonly gatewayId: string;
  /** the fanout whose results showed them not reached */
  readonly from: string;
  readonly devices: readonly string[];
  /** the image as that gateway holds it */
  readonly image: string;
  readonly url: string;
  readonly version: string;
  /** seconds left of the distribution's timeout when the follow was decided */
  readonly timeout?: number;
}

/** A staged rollout of one image to devices behind one gateway or several (src/server/campaigns.ts). */
export interface CampaignRow {
  readonly id: string;
  readonly gatewayId: string;
  readonly image: string;
  readonly object: 'auto' | 'fumo' | 'scomo';
  readonly state: 'scheduled' | 'running' | 'paused' | 'halted' | 'cancelled' | 'expired' | 'done';
  /** why it stopped (halted, cancelled, expired) */
  readonly reason?: string;
  /** the canary (wave 0) and the waves after it, each its devices in order */
  readonly waves: readonly (readonly string[])[];
  /** the wave running or next */
  readonly wave: number;
  /** a wave whose failed share is above this halts the campaign (0–1) */
  readonly failureThreshold: number;
  /** devices updating at once on the gateway (a wave goes in batches of this size) */
  readonly perGatewayConcurrency: number;
  readonly notBefore?: number;
  readonly notAfter?: number;
  readonly timeout?: number;
  /**
   * a campaign across gateways (`gatewayId` is then "*" and `image` the server's image id): each
   * gateway with the name the image is staged under there, and each device's gateway (its index)
   */
  readonly gateways?: readonly { readonly id: string; readonly image: string }[];
  readonly at?: Readonly<Record<string, number>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** `downloading`: sent, and the gateway has served it image bytes (src/server/distribution-progress.ts) */
export type DistributionDeviceState = 'queued' | 'sent' | 'downloading' | 'succeeded' | 'failed';

/** One device's part in a distribution. */
export interface DistributionDeviceRow {
  readonly distributionId: string;
  readonly deviceId: string;
  readonly object?: UpdateObject;
  /** the device holds its own DM session with the server: its commands go on its own queue, not into a fanout */
  readonly mode?: 'transparent';
  readonly state: DistributionDeviceState;
  /** DM status of the device's Exec (or of what failed before it) */
  readonly status?: number;
  /** the device's own result code: FUMO, SCOMO, or object 5's Update Result */
  readonly resultCode?: number;
  readonly meaning?: string;
  /** the gateway it was last sent to, when not the distribution's (it moved and was followed) */
  readonly gatewayId?: string;
  /** image bytes the gateway has served the device (and the image's size), while and after it downloads */
  readonly bytes?: number;
  readonly size?: number;
  readonly updatedAt: number;
}

export type DeviceUpdate = Partial<
  Pick<DeviceRow, 'clientNonce' | 'serverNonce' | 'devInfo' | 'lastSeen' | 'notifyAddress' | 'sessionProfile'>
>;

export interface OperationFinish {
  readonly state: OperationState;
  /** absent: no Status came (in doubt) */
  readonly status?: number;
  readonly results?: OperationRow['results'];
  readonly note?: string;
}

export interface ServerStore {
  /** whether the database can be used now (503/507 instead of 500 while it cannot); see health.ts */
  readonly health?: StoreHealth;
  setLocation(deviceId: string, gatewayId: string, now: number): Promise<void>;
  getLocation(deviceId: string): Promise<{ gatewayId: string; at: number } | undefined>;
  putDeviceJob(job: DeviceJobRow): Promise<void>;
  getDeviceJob(id: string): Promise<DeviceJobRow | undefined>;
  listDeviceJobs(deviceId: string): Promise<DeviceJobRow[]>;
  /** the job whose current dispatch carries this correlator */
  findDeviceJob(correlator: string): Promise<DeviceJobRow | undefined>;

  putDistribution(row: DistributionRow): Promise<void>;
  /** creates the distribution unless one of its id exists: false then (two starts of one name, 409) */
  insertDistribution(row: DistributionRow): Promise<boolean>;
  getDistribution(id: string): Promise<DistributionRow | undefined>;
  /** newest first */
  listDistributions(options: { gatewayId?: string; limit: number }): Promise<DistributionRow[]>;
  /** creates or replaces each device's row */
  putDistributionDevices(rows: readonly DistributionDeviceRow[]): Promise<void>;
  listDistributionDevices(distributionId: string): Promise<DistributionDeviceRow[]>;
  /** every distribution a device took part in */
  listDeviceDistributions(deviceId: string): Promise<DistributionDeviceRow[]>;

  putCampaign(row: CampaignRow): Promise<void>;
  getCampaign(id: string): Promise<CampaignRow | undefined>;
  /** newest first */
  listCampaigns(limit: number): Promise<CampaignRow[]>;

  /** creates or replaces the account (the gateway's own LAN accounts; the API creates with insertDevice) */
  putDevice(row: DeviceRow): Promise<void>;
  /** creates the account in one statement; false (and nothing changed) when the id has one */
  insertDevice(row: DeviceRow): Promise<boolean>;
  /** sets only the given account fields (null clears an optional one); the row after, undefined for an unknown id */
  changeAccount(deviceId: string, patch: AccountPatch): Promise<DeviceRow | undefined>;
  getDevice(deviceId: string): Promise<DeviceRow | undefined>;
  listDevices(options?: { limit?: number; offset?: number }): Promise<DeviceRow[]>;
  deleteDevice(deviceId: string): Promise<boolean>;
  /** the device's row with LastSeen set to `now` (one statement: every DM message starts with it) */
  touchDevice(deviceId: string, now: number): Promise<DeviceRow | undefined>;
  updateDevice(deviceId: string, patch: DeviceUpdate): Promise<void>;

  queueOperation(row: Omit<OperationRow, 'state' | 'createdAt' | 'updatedAt'>, now: number): Promise<OperationRow>;
  getOperation(id: string): Promise<OperationRow | undefined>;
  listOperations(deviceId: string, options?: { limit?: number; offset?: number; state?: OperationState }): Promise<OperationRow[]>;
  /** queued operations of a device, oldest first, marked sent */
  takeOperations(deviceId: string, limit: number, now: number): Promise<OperationRow[]>;
  /** the operation as it now is (undefined: no such operation) */
  finishOperation(id: string, outcome: OperationFinish, now: number): Promise<OperationRow | undefined>;
  /** sent operations back to the queue; `note` says why (kept until the operation finishes) */
  requeueOperations(ids: readonly string[], now: number, note?: string): Promise<void>;
  /**
   * After a restart no session of this process is open: what was sent and not answered goes back to
   * the queue (with a shared store: what instances no longer alive had sent), except commands that
   * must not run twice: those are in doubt (RESENDABLE_SQL).
   */
  requeueAllSent(now: number): Promise<number>;
  /** an operation in doubt queued again, failed or done, as someone decided; undefined if it was not in doubt */
  resolveOperation(id: string, resolution: DoubtResolution, now: number, note: string): Promise<OperationRow | undefined>;
  /** ends an operation that is still queued or sent (a fanout gave up on the device); false if it had finished */
  cancelOperation(id: string, status: number, now: number): Promise<boolean>;
  /** a device's Execs answered 202 and still waiting for their Generic Alert, oldest first (fanouts running) */
  listAccepted(deviceId: string, limit: number): Promise<OperationRow[]>;
  /** an Exec answered 202 whose Generic Alert carries this correlator */
  findAcceptedByCorrelator(deviceId: string, correlator: string): Promise<OperationRow | undefined>;

  addAlert(row: Omit<AlertRow, 'id'>): Promise<AlertRow>;
  listAlerts(deviceId: string, options?: { limit?: number }): Promise<AlertRow[]>;
  /** alerts of any device matching the query, newest first */
  queryAlerts(query: AlertQuery): Promise<AlertRow[]>;
  getAlert(id: number): Promise<AlertRow | undefined>;

  /** removes at most `limit` history rows of `kind` (finished ones only) last changed before `before`; how many */
  pruneOlder(kind: HistoryKind, before: number, limit: number): Promise<number>;
  /**
   * For the next `devices` devices after `cursor` (device id order), removes history rows of `kind`
   * beyond the newest `keep` of each device, at most `limit`.
   */
  pruneBeyond(kind: PerDeviceKind, keep: number, cursor: string, devices: number, limit: number): Promise<BeyondStep>;

  /**
   * Runs `work` as one store transaction: the writes of one DM message (completions, the next
   * operations taken) commit together. Work that is already inside a batch joins it.
   */
  batch<T>(work: () => Promise<T>): Promise<T>;

  /**
   * Changes committed by any process sharing the store (several server instances on PostgreSQL),
   * heard after they commit; a store only one process uses need not offer it.
   */
  watch?(listener: (change: StoreChange) => void): void;

  /** Push-channel polls held across instances; a store only one process uses need not offer it. */
  readonly pushRelay?: PushRelay;

  /** Session traces every instance lists; a store only one process uses need not offer it (traces stay in memory). */
  readonly traces?: SharedTraces;

  /** Image bytes every instance can serve; a store only one process uses need not offer it (images stay in files). */
  readonly images?: SharedImages;

  /** Which instance holds a DM session; a store only one process uses need not offer it. */
  readonly sessionOwners?: SessionOwners;

  /** resolves when the database answers a trivial query within `timeoutMs` (GET /healthz) */
  ping?(timeoutMs: number): Promise<void>;

  close(): Promise<void>;
}

/**
 * Uploaded images: records (one per upload: its name, version, claimed type, as JSON `meta`) and
 * the bytes they name, kept once per SHA-256 however many records share them. The server keeps them
 * in files; a store several instances share (PostgreSQL) keeps them so every instance serves what
 * any one received.
 */
export interface SharedImages {
  /** false when a record with that name and version exists (nothing added) */
  addRecord(id: string, sha256: string, name: string, version: string, meta: string): Promise<boolean>;
  getRecord(id: string): Promise<string | undefined>;
  /** oldest first */
  listRecords(): Promise<string[]>;
  hasRecord(name: string, version: string): Promise<boolean>;
  setRecord(id: string, meta: string): Promise<void>;
  /** deletes the record, and the bytes when no other record names them */
  deleteRecord(id: string): Promise<{ deleted: boolean; bytesGone: boolean }>;
  /** stores the bytes once (bytes already stored are left as they are) */
  put(sha256: string, size: number, bytes: AsyncIterable<Uint8Array>): Promise<void>;
  /** bytes start..end (inclusive), streamed a few chunks at a time */
  read(sha256: string, start: number, end: number): AsyncIterable<Uint8Array>;
  /** bytes of every image stored, each content once */
  usedBytes(): Promise<number>;
  /** the key of the links the server hands out for its images, the same on every instance */
  linkKey(): Promise<Uint8Array>;
}

/**
 * A gateway long-polls one instance for its Package#0 (GET /push/<DevId>); another instance that
 * must wake it hands the Package#0 to the instance holding the open poll, or, when no poll is open,
 * keeps it in the store for the next poll, whichever instance that reaches.
 */
export interface PushRelay {
  /**
   * this instance holds the device's open poll from `since` (the newest poll wins); hands back, and
   * forgets, a Package#0 kept for the device while no poll was open
   */
  opened(deviceId: string, since: number): Promise<Uint8Array | undefined>;
  /** the poll opened at `since` here ended (answered, timed out, closed): no longer open, unless a newer one is */
  closed(deviceId: string, since: number): Promise<void>;
  /**
   * in one step: the live instance holding the device's open poll (`'self'` for this one; nothing
   * kept), or, when none does, the Package#0 kept for the next poll (undefined)
   */
  offer(deviceId: string, bytes: Uint8Array): Promise<string | undefined>;
  /** the live instance other than this one whose poll for the device is newer than `since` */
  holder(deviceId: string, since: number): Promise<string | undefined>;
  /** hands the Package#0 to that instance (delivered there after commit, well under NOTIFY's 8000 bytes) */
  send(instanceId: string, deviceId: string, bytes: Uint8Array): Promise<void>;
  /** Package#0s other instances hand to this one */
  onPush(listener: (deviceId: string, bytes: Uint8Array) => void): void;
}

/**
 * A DM session lives in the memory of the instance that started it; its key starts with that
 * instance's tag, and each instance publishes where the others reach its DM endpoint, so a message
 * that lands on another instance (a round-robin load balancer) is forwarded to the owner.
 */
export interface SessionOwners {
  /** the prefix of this instance's session keys */
  readonly tag: string;
  /** publishes the DM URL the other instances forward this instance's sessions to */
  advertise(dmUrl: string): Promise<void>;
  /** the DM URL of each live instance, by tag (the newest when two share a tag) */
  addresses(): Promise<Map<string, string>>;
  /** what forwarded messages are signed with, the same on every instance */
  forwardKey(): Promise<Uint8Array>;
}

export type StoreChange = { readonly kind: 'operation' | 'deviceJob' | 'alert'; readonly id: string };

/**
 * What an embedded store (SQLite) also answers synchronously: the gateway's DM tree reads and
 * writes its LAN devices' accounts inside tree callbacks, which are synchronous.
 */
export interface SyncAccounts {
  deviceNow(deviceId: string): DeviceRow | undefined;
  putDeviceNow(row: DeviceRow): void;
  /** operations of the device still queued or sent */
  openOperationsNow(deviceId: string): number;
}

/**
 * Recent DM sessions as each instance traced them (src/server/trace.ts), so any instance lists the
 * fleet's. Opaque JSON: `summary` is what a list shows, `messages` what one session's trace shows.
 */
/** sessions and failures that ended in one minute of the fleet (src/server/session-rate.ts) */
export interface MinuteCount {
  readonly minute: number;
  readonly sessions: number;
  readonly failures: number;
}

export interface TraceRow {
  readonly id: string;
  readonly deviceId: string;
  readonly startedAt: number;
  readonly summary: string;
  readonly messages: string;
}

export interface SharedTraces {
  /** a prefix for this instance's ids, unique in the fleet */
  readonly idPrefix: string;
  /** writes (or rewrites) `put`, removes `gone`; the table keeps the newest `cap` sessions */
  save(put: readonly TraceRow[], gone: readonly string[], cap: number): Promise<void>;
  /** newest first; summaries only */
  list(query: {
    readonly deviceId?: string;
    readonly limit: number;
    readonly offset: number;
  }): Promise<{ rows: TraceRow[]; total: number }>;
  get(id: string): Promise<TraceRow | undefined>;
  /** adds an instance's sessions per minute to the fleet's; drops minutes before `keepFrom` */
  addMinutes(counts: readonly MinuteCount[], keepFrom: number): Promise<void>;
  /** the fleet's sessions per minute in [from, to] (minutes since the epoch) */
  minutes(from: number, to: number): Promise<MinuteCount[]>;
}
