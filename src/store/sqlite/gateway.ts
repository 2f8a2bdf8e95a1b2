// The gateway's own state on SQLite (node:sqlite): config, inventory, groups, jobs, results.
import { DatabaseSync, type StatementSync } from 'node:sqlite';

import type { GatewayStore, GroupMember, GroupRow, ImageRow, InventoryRow, JobResultRow, JobRow, JobState } from '../gateway.ts';
import { WAL_CHECKPOINT_PAGES } from './server.ts';
import { upgradeGatewaySchema } from './gateway-schema.ts';
import { writeTransaction } from './tx.ts';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS inventory (device_id TEXT PRIMARY KEY, mode INTEGER NOT NULL, protocol TEXT NOT NULL,
    attached INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, local_address TEXT, info TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS inventory_silent ON inventory(attached, last_seen);
  CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', mode INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS members (grp TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE ON UPDATE CASCADE,
    pos INTEGER NOT NULL, name TEXT NOT NULL, device_id TEXT NOT NULL, PRIMARY KEY (grp, pos));
  CREATE INDEX IF NOT EXISTS members_name ON members(grp, name);
  CREATE TABLE IF NOT EXISTS images (name TEXT PRIMARY KEY, record TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS jobs (name TEXT PRIMARY KEY, record TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS results (job TEXT NOT NULL, device_id TEXT NOT NULL, status INTEGER NOT NULL,
    commands TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (job, device_id));
`;

function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? { $b64: Buffer.from(v).toString('base64') } : v));
}

function fromJson<T>(text: string): T {
  // a reviver runs for every value: only text that holds bytes needs one
  if (!text.includes('"$b64"')) return JSON.parse(text) as T;
  return JSON.parse(text, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && '$b64' in v ? new Uint8Array(Buffer.from(String((v as { $b64: string }).$b64), 'base64')) : v,
  ) as T;
}

type Row = Record<string, unknown>;

export class SqliteGatewayStore implements GatewayStore {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  /** `exclusive`: the gateway process is the file's only user; SQLite takes its locks once, not per statement */
  constructor(path: string, options: { exclusive?: boolean } = {}) {
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA foreign_keys = ON;');
    if (options.exclusive) this.db.exec('PRAGMA locking_mode = EXCLUSIVE;');
    if (path !== ':memory:')
      this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES};`);
    this.db.exec(SCHEMA);
    upgradeGatewaySchema(this.db);
  }

  private sql(text: string): StatementSync {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  getConfig(key: string): string | undefined {
    const r = this.sql('SELECT value FROM config WHERE key = ?').get(key) as Row | undefined;
    return r ? String(r['value']) : undefined;
  }

  setConfig(key: string, value: string): void {
    this.sql('INSERT INTO config (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  listConfig(prefix: string): [string, string][] {
    // substr, not LIKE: a prefix may hold % or _
    const rows = this.sql('SELECT key, value FROM config WHERE substr(key, 1, ?) = ? ORDER BY key').all(prefix.length, prefix) as Row[];
    return rows.map((r) => [String(r['key']), String(r['value'])]);
  }

  deleteConfig(key: string): boolean {
    return Number(this.sql('DELETE FROM config WHERE key = ?').run(key).changes) > 0;
  }

  private device(r: Row): InventoryRow {
    return {
      deviceId: String(r['device_id']),
      mode: Number(r['mode']),
      protocol: String(r['protocol']),
      attached: Number(r['attached']) === 1,
      firstSeen: Number(r['first_seen']),
      lastSeen: Number(r['last_seen']),
      ...(typeof r['local_address'] === 'string' ? { localAddress: r['local_address'] } : {}),
      info: fromJson<Record<string, string>>(String(r['info'])),
    };
  }

  getDevice(deviceId: string): InventoryRow | undefined {
    const r = this.sql('SELECT * FROM inventory WHERE device_id = ?').get(deviceId) as Row | undefined;
    return r ? this.device(r) : undefined;
  }

  putDevice(d: InventoryRow): void {
    this.sql(`INSERT INTO inventory (device_id, mode, protocol, attached, first_seen, last_seen, local_address, info) VALUES (?,?,?,?,?,?,?,?)
      ON CONFLICT(device_id) DO UPDATE SET mode=excluded.mode, protocol=excluded.protocol, attached=excluded.attached,
      last_seen=excluded.last_seen, local_address=excluded.local_address, info=excluded.info`).run(
      d.deviceId,
      d.mode,
      d.protocol,
      d.attached ? 1 : 0,
      d.firstSeen,
      d.lastSeen,
      d.localAddress ?? null,
      toJson(d.info),
    );
  }

  touchDevices(lastSeen: ReadonlyMap<string, number>): void {
    const touch = this.sql('UPDATE inventory SET last_seen = max(last_seen, ?) WHERE device_id = ?');
    writeTransaction(this.db, () => {
      for (const [deviceId, at] of lastSeen) touch.run(at, deviceId);
    });
  }

  listDevices(): InventoryRow[] {
    return (this.sql('SELECT * FROM inventory ORDER BY device_id').all() as Row[]).map((r) => this.device(r));
  }

  listSilent(before: number): InventoryRow[] {
    return (this.sql('SELECT * FROM inventory WHERE attached = 1 AND last_seen < ?').all(before) as Row[]).map((r) => this.device(r));
  }

  deleteDevice(deviceId: string): boolean {
    return Number(this.sql('DELETE FROM inventory WHERE device_id = ?').run(deviceId).changes) > 0;
  }

  listGroups(): GroupRow[] {
    return (this.sql('SELECT name FROM groups ORDER BY name').all() as Row[]).map((r) => this.getGroup(String(r['name']))!);
  }

  getGroup(name: string): GroupRow | undefined {
    const g = this.sql('SELECT * FROM groups WHERE name = ?').get(name) as Row | undefined;
    if (!g) return undefined;
    const members = (this.sql('SELECT name, device_id FROM members WHERE grp = ? ORDER BY pos').all(name) as Row[]).map((r) => ({
      name: String(r['name']),
      deviceId: String(r['device_id']),
    }));
    return { name, description: String(g['description']), mode: Number(g['mode']), members };
  }

  hasGroup(name: string): boolean {
    return this.sql('SELECT 1 FROM groups WHERE name = ?').get(name) !== undefined;
  }

  putGroup(name: string, description: string): void {
    this.sql('INSERT INTO groups (name, description) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET description = excluded.description').run(
      name,
      description,
    );
  }

  setGroupMode(name: string, mode: number): void {
    this.sql('UPDATE groups SET mode = ? WHERE name = ?').run(mode, name);
  }

  deleteGroup(name: string): boolean {
    return Number(this.sql('DELETE FROM groups WHERE name = ?').run(name).changes) > 0;
  }

  renameGroup(from: string, to: string): boolean {
    if (this.getGroup(to)) return false;
    return Number(this.sql('UPDATE groups SET name = ? WHERE name = ?').run(to, from).changes) > 0;
  }

  setMembers(name: string, members: readonly GroupMember[]): void {
    writeTransaction(this.db, () => {
      this.sql('DELETE FROM members WHERE grp = ?').run(name);
      members.forEach((m, i) =>
        this.sql('INSERT INTO members (grp, pos, name, device_id) VALUES (?, ?, ?, ?)').run(name, i, m.name, m.deviceId),
      );
    });
  }

  getMember(group: string, member: string): GroupMember | undefined {
    const r = this.sql('SELECT device_id FROM members WHERE grp = ? AND name = ? ORDER BY pos LIMIT 1').get(group, member) as
      | Row
      | undefined;
    return r ? { name: member, deviceId: String(r['device_id']) } : undefined;
  }

  getImage(name: string): ImageRow | undefined {
    const r = this.sql('SELECT record FROM images WHERE name = ?').get(name) as Row | undefined;
    return r ? fromJson<ImageRow>(String(r['record'])) : undefined;
  }

  listImages(): ImageRow[] {
    return (this.sql('SELECT record FROM images ORDER BY name').all() as Row[]).map((r) => fromJson<ImageRow>(String(r['record'])));
  }

  putImage(row: ImageRow): void {
    this.sql('INSERT INTO images (name, record) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET record = excluded.record').run(
      row.name,
      toJson(row),
    );
  }

  deleteImage(name: string): boolean {
    return Number(this.sql('DELETE FROM images WHERE name = ?').run(name).changes) > 0;
  }

  getJob(name: string): JobRow | undefined {
    const r = this.sql('SELECT record FROM jobs WHERE name = ?').get(name) as Row | undefined;
    return r ? fromJson<JobRow>(String(r['record'])) : undefined;
  }

  listJobs(): JobRow[] {
    return (this.sql('SELECT record FROM jobs ORDER BY name').all() as Row[]).map((r) => fromJson<JobRow>(String(r['record'])));
  }

  listJobNames(): string[] {
    return (this.sql('SELECT name FROM jobs ORDER BY name').all() as Row[]).map((r) => String(r['name']));
  }

  putJob(row: JobRow): void {
    this.sql(
      'INSERT INTO jobs (name, record, finished_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET record = excluded.record, finished_at = excluded.finished_at',
    ).run(row.name, toJson(row), row.finishedAt ?? null);
  }

  deleteJob(name: string): boolean {
    this.sql('DELETE FROM results WHERE job = ?').run(name);
    return Number(this.sql('DELETE FROM jobs WHERE name = ?').run(name).changes) > 0;
  }

  addResult(row: JobResultRow): boolean {
    const info = this.sql('INSERT OR IGNORE INTO results (job, device_id, status, commands, at) VALUES (?,?,?,?,?)').run(
      row.job,
      row.deviceId,
      row.status,
      toJson(row.commands),
      row.at,
    );
    return Number(info.changes) > 0;
  }

  listResults(job: string): JobResultRow[] {
    return (this.sql('SELECT * FROM results WHERE job = ? ORDER BY device_id').all(job) as Row[]).map((r) => this.result(job, r));
  }

  countResults(job: string): number {
    return Number((this.sql('SELECT count(*) AS n FROM results WHERE job = ?').get(job) as Row)['n']);
  }

  resultAt(job: string, index: number): JobResultRow | undefined {
    if (!Number.isInteger(index) || index < 0) return undefined;
    const r = this.sql('SELECT * FROM results WHERE job = ? ORDER BY device_id LIMIT 1 OFFSET ?').get(job, index) as Row | undefined;
    return r ? this.result(job, r) : undefined;
  }

  private result(job: string, r: Row): JobResultRow {
    return {
      job,
      deviceId: String(r['device_id']),
      status: Number(r['status']),
      commands: fromJson<JobResultRow['commands']>(String(r['commands'])),
      at: Number(r['at']),
    };
  }

  /** A consistent copy of this file at `file` (VACUUM INTO on this connection: allowed under its exclusive lock); see backup.ts. */
  backupTo(file: string): void {
    this.db.prepare('VACUUM INTO ?').run(file);
  }

  prunableJobs(before: number, keep: number, readBefore: number, limit: number): string[] {
    const old = this.sql('SELECT name FROM jobs WHERE finished_at <= ? ORDER BY finished_at LIMIT ?').all(before, limit) as Row[];
    const beyond =
      keep > 0
        ? (this.sql(`SELECT name FROM jobs WHERE finished_at <= ? ORDER BY finished_at DESC LIMIT ? OFFSET ?`).all(
            readBefore,
            limit,
            keep,
          ) as Row[])
        : [];
    return [...new Set([...old, ...beyond].map((r) => String(r['name'])))].slice(0, limit);
  }

  deleteResults(job: string, limit: number): number {
    return Number(this.sql('DELETE FROM results WHERE rowid IN (SELECT rowid FROM results WHERE job = ? LIMIT ?)').run(job, limit).changes);
  }

  close(): void {
    this.db.close();
  }
}

export type { JobState };
