// What the DM gateway keeps beside its southbound DM server store: configuration set by the DM
// server, the inventory view of each end device, groups, and fanout jobs with one durable result
// per target device.
type ItemData = string | Uint8Array;

export interface InventoryRow {
  readonly deviceId: string;
  /** 1 transparent, 2 proxy, 3 adaptation */
  readonly mode: number;
  readonly protocol: string;
  readonly attached: boolean;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly localAddress?: string;
  readonly info: Readonly<Record<string, string>>;
}

export interface GroupMember {
  /** the member's node name under Members (chosen by the server) */
  readonly name: string;
  readonly deviceId: string;
}

export interface GroupRow {
  readonly name: string;
  readonly description: string;
  /** mode policy for the members (1–3), 0 = none */
  readonly mode: number;
  readonly members: readonly GroupMember[];
}

export type JobState = 10 | 20 | 30 | 40 | 60;

export interface JobCommand {
  readonly kind: 'Get' | 'Replace' | 'Add' | 'Delete' | 'Exec' | 'Copy';
  readonly target: string;
  readonly source?: string;
  readonly data?: ItemData;
  readonly format?: string;
  readonly type?: string;
}

export interface JobRow {
  readonly name: string;
  /** target URIs as the server wrote them (devices and groups of the inventory), by node name */
  readonly targets: readonly { readonly name: string; readonly uri: string }[];
  /** the devices the targets resolved to when the job started */
  readonly devices?: readonly string[];
  /** the SyncML fragment as the server wrote it */
  readonly commandsXml: string;
  /** the fragment parsed, once it was accepted */
  readonly commands?: readonly JobCommand[];
  readonly state: JobState;
  readonly correlator?: string;
  readonly timeoutS?: number;
  readonly retries?: number;
  readonly concurrency?: number;
  readonly createdAt: number;
  readonly finishedAt?: number;
}

export interface JobResultRow {
  readonly job: string;
  readonly deviceId: string;
  /** worst status over the device's commands */
  readonly status: number;
  /** inDoubt: sent, no Status came, not retried (docs/sessions.md "Operations in doubt") */
  readonly commands: readonly { status: number; data?: ItemData; format?: string; inDoubt?: true }[];
  readonly at: number;
}

export const ImageState = { Idle: 10, Downloading: 20, Stored: 30, Failed: 40, NotStored: 50 } as const;

/** One image as the server named it on this gateway; several may share one stored file. */
export interface ImageRow {
  readonly name: string;
  readonly imageId: string;
  readonly version: string;
  readonly contentType: string;
  readonly size?: number;
  /** hex SHA-256 */
  readonly hash?: string;
  readonly downloadUrl?: string;
  readonly state: number;
  readonly bytes: number;
  readonly error?: string;
  readonly createdAt: number;
  /** of the Exec that started the download: a download a restart resumes reports with it */
  readonly correlator?: string;
}

export interface GatewayStore {
  getImage(name: string): ImageRow | undefined;
  listImages(): ImageRow[];
  putImage(row: ImageRow): void;
  deleteImage(name: string): boolean;

  getConfig(key: string): string | undefined;
  setConfig(key: string, value: string): void;
  /** every key that starts with `prefix`, with its value (key order) */
  listConfig(prefix: string): [string, string][];
  deleteConfig(key: string): boolean;

  getDevice(deviceId: string): InventoryRow | undefined;
  putDevice(row: InventoryRow): void;
  listDevices(): InventoryRow[];
  /** when each device was last heard from, several devices in one transaction (later times only) */
  touchDevices(lastSeen: ReadonlyMap<string, number>): void;
  /** attached devices not heard from since `before` */
  listSilent(before: number): InventoryRow[];
  deleteDevice(deviceId: string): boolean;

  listGroups(): GroupRow[];
  getGroup(name: string): GroupRow | undefined;
  /** whether the group exists, without reading its members */
  hasGroup(name: string): boolean;
  putGroup(name: string, description: string): void;
  setGroupMode(name: string, mode: number): void;
  deleteGroup(name: string): boolean;
  renameGroup(from: string, to: string): boolean;
  setMembers(name: string, members: readonly GroupMember[]): void;
  /** one member of a group by its node name, without reading the others */
  getMember(group: string, member: string): GroupMember | undefined;

  getJob(name: string): JobRow | undefined;
  listJobs(): JobRow[];
  /** the jobs' names in order, without reading their records */
  listJobNames(): string[];
  putJob(row: JobRow): void;
  deleteJob(name: string): boolean;
  /** false when the device already has a result for the job (a result is written once) */
  addResult(row: JobResultRow): boolean;
  listResults(job: string): JobResultRow[];
  countResults(job: string): number;
  /** the result at `index` (0-based) in listResults's order, without reading the others */
  resultAt(job: string, index: number): JobResultRow | undefined;
  /**
   * Finished jobs (completed or cancelled) that retention may remove, oldest first, at most `limit`:
   * those finished at or before `before`, and those beyond the newest `keep` of the ones finished at
   * or before `readBefore` (the server has had their result; 0: no count limit).
   */
  prunableJobs(before: number, keep: number, readBefore: number, limit: number): string[];
  /** deletes at most `limit` of a job's results; how many */
  deleteResults(job: string, limit: number): number;

  close(): void;
}
