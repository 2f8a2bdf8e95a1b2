// A server store with a year of history, written fast (one prepared INSERT per table, 50,000 rows
// per transaction): at scale 1, 100,000 devices, 10,000,000 finished operations and 1,000,000
// sessions. The store keeps no row per session (traces are a bounded ring in memory); what a session
// leaves is its device's LastSeen, its operations and the alerts it carried, so a session is one
// alert row here. Devices are IMEI:<15 digits> with the accounts bench/support/session-target.ts
// gives its devices (dev<n> / pw, md5), so a bench can run sessions against the seeded ones.
import { DatabaseSync } from 'node:sqlite';

import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

const DAY_MS = 86_400_000;
const CHUNK = 50_000;

export interface SeedCounts {
  readonly devices: number;
  readonly operations: number;
  readonly sessions: number;
}

export const countsAt = (scale: number): SeedCounts => ({
  devices: Math.max(100, Math.round(100_000 * scale)),
  operations: Math.round(10_000_000 * scale),
  sessions: Math.round(1_000_000 * scale),
});

/** Writes the history into the SQLite file at `path` (created and migrated if new); ms it took. */
export async function seedHistory(path: string, counts: SeedCounts, now = Date.now()): Promise<number> {
  const started = performance.now();
  await new SqliteServerStore(path).close(); // the schema, by the store's own migrations
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;');
  const id = (d: number): string => `IMEI:${String(d).padStart(15, '0')}`;
  const yearAgo = now - 365 * DAY_MS;
  const chunked = (n: number, row: (i: number) => void): void => {
    for (let start = 0; start < n; start += CHUNK) {
      db.exec('BEGIN');
      for (let i = start; i < Math.min(n, start + CHUNK); i++) row(i);
      db.exec('COMMIT');
    }
  };
  const device = db.prepare(
    `INSERT INTO devices (device_id, scheme, client_name, client_password, dev_info, created_at, last_seen)
     VALUES (?, 'syncml:auth-md5', ?, 'pw', '{"Man":"Bench","Mod":"B-1"}', ?, ?)`,
  );
  chunked(counts.devices, (d) => device.run(id(d), `dev${d}`, yearAgo, now - (d % 1440) * 60_000));
  // operations in time order over the year, round-robin over the devices; one in ten failed
  const op = db.prepare(
    `INSERT INTO operations (id, device_id, kind, target, state, status, results, created_at, updated_at)
     VALUES (?, ?, 'Get', './DevInfo/Mod', ?, ?, ?, ?, ?)`,
  );
  const result = JSON.stringify([{ uri: './DevInfo/Mod', format: 'chr', data: 'B-1' }]);
  const step = (365 * DAY_MS) / Math.max(1, counts.operations);
  chunked(counts.operations, (i) => {
    const at = Math.floor(yearAgo + i * step);
    const failed = i % 10 === 9;
    op.run(`h${i}`, id(i % counts.devices), failed ? 'failed' : 'done', failed ? 408 : 200, failed ? null : result, at, at + 2000);
  });
  const alert = db.prepare(
    `INSERT INTO alerts (device_id, code, correlator, items, received_at, type) VALUES (?, 1226, NULL, ?, ?, 'org.openmobilealliance.dm.firmwareupdate.devicerequest')`,
  );
  const items = JSON.stringify([{ type: 'org.openmobilealliance.dm.firmwareupdate.devicerequest', format: 'int', data: '0' }]);
  const sessionStep = (365 * DAY_MS) / Math.max(1, counts.sessions);
  chunked(counts.sessions, (i) => alert.run(id((i * 7) % counts.devices), items, Math.floor(yearAgo + i * sessionStep)));
  db.exec('ANALYZE');
  db.close();
  return performance.now() - started;
}
