// A device's DM tree on SQLite: one row per node, the record as JSON (bytes as {"$b64": …}).
import { DatabaseSync } from 'node:sqlite';

import type { TreeNodeRecord, TreeStore } from '../tree.ts';
import { writeTransaction } from './tx.ts';

export class SqliteTreeStore implements TreeStore {
  private readonly db: DatabaseSync;

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    if (path !== ':memory:') this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    this.db.exec('CREATE TABLE IF NOT EXISTS tree_nodes (path TEXT PRIMARY KEY, record TEXT NOT NULL)');
  }

  load(): TreeNodeRecord[] {
    return (this.db.prepare('SELECT record FROM tree_nodes').all() as { record: string }[]).map(
      (r) =>
        JSON.parse(r.record, (_k, v: unknown) =>
          v !== null && typeof v === 'object' && '$b64' in v
            ? new Uint8Array(Buffer.from(String((v as { $b64: string }).$b64), 'base64'))
            : v,
        ) as TreeNodeRecord,
    );
  }

  apply(puts: readonly TreeNodeRecord[], deletes: readonly string[]): void {
    if (puts.length === 0 && deletes.length === 0) return;
    const put = this.db.prepare(
      'INSERT INTO tree_nodes (path, record) VALUES (?, ?) ON CONFLICT(path) DO UPDATE SET record = excluded.record',
    );
    const del = this.db.prepare('DELETE FROM tree_nodes WHERE path = ?');
    writeTransaction(this.db, () => {
      for (const d of deletes) del.run(d);
      for (const p of puts) {
        put.run(
          p.path,
          JSON.stringify(p, (_k, v: unknown) => (v instanceof Uint8Array ? { $b64: Buffer.from(v).toString('base64') } : v)),
        );
      }
    });
  }

  /** A consistent copy of this file at `file` (VACUUM INTO on this connection: allowed under its exclusive lock); see backup.ts. */
  backupTo(file: string): void {
    this.db.prepare('VACUUM INTO ?').run(file);
  }

  close(): void {
    this.db.close();
  }
}
