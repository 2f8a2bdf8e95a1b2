// Uploaded images in PostgreSQL, so a gateway can download from any instance what was uploaded on
// another: bytes in 256 KiB bytea chunks (a Range request reads only the chunks it covers, a few
// at a time, never the whole image into memory), once per SHA-256 (table images); one record per
// upload (image_records) names them.
import { randomBytes } from 'node:crypto';

import type { SharedImages } from '../server.ts';
import type { PgPool } from './pool.ts';

export const IMAGE_TABLES = `CREATE TABLE images (id TEXT PRIMARY KEY, meta TEXT NOT NULL, size BIGINT NOT NULL, complete BOOLEAN NOT NULL DEFAULT false);
   CREATE TABLE image_chunks (image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, n INTEGER NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (image_id, n));`;

/** schema component "images": records apart from the bytes, and the key of the server's image links */
export const IMAGE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE image_records (
     id TEXT PRIMARY KEY, sha256 TEXT NOT NULL REFERENCES images(id), name_key TEXT NOT NULL UNIQUE,
     meta TEXT NOT NULL, created_at BIGINT NOT NULL);
   CREATE INDEX image_records_sha256 ON image_records(sha256);
   -- uploads from before records: one record per content, under its SHA-256, outside the name rule
   INSERT INTO image_records (id, sha256, name_key, meta, created_at)
     SELECT id, id, 'legacy:' || id, meta, COALESCE((meta::json->>'createdAt')::bigint, 0) FROM images WHERE complete;
   CREATE TABLE image_link_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BYTEA NOT NULL);`,
];

const CHUNK = 256 * 1024;
/** chunks fetched per query while streaming */
const BATCH = 8;

export function pgImages(db: PgPool): SharedImages {
  let key: Promise<Uint8Array> | undefined;
  return {
    async addRecord(id, sha256, name, version, meta) {
      const r = await db.query(
        `INSERT INTO image_records (id, sha256, name_key, meta, created_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (name_key) DO NOTHING RETURNING id`,
        [id, sha256, `${name}\n${version}`, meta, Date.now()],
      );
      return r.length === 1;
    },
    async getRecord(id) {
      const r = (await db.query('SELECT meta FROM image_records WHERE id = $1', [id]))[0];
      return r ? String(r['meta']) : undefined;
    },
    async listRecords() {
      return (await db.query('SELECT meta FROM image_records ORDER BY created_at, id')).map((r) => String(r['meta']));
    },
    async hasRecord(name, version) {
      return (await db.query('SELECT 1 FROM image_records WHERE name_key = $1', [`${name}\n${version}`])).length > 0;
    },
    async setRecord(id, meta) {
      await db.query('UPDATE image_records SET meta = $2 WHERE id = $1', [id, meta]);
    },
    async deleteRecord(id) {
      return db.transaction(async () => {
        const gone = (await db.query('DELETE FROM image_records WHERE id = $1 RETURNING sha256', [id]))[0];
        if (!gone) return { deleted: false, bytesGone: false };
        const sha = String(gone['sha256']);
        if ((await db.query('SELECT 1 FROM image_records WHERE sha256 = $1 LIMIT 1', [sha])).length > 0)
          return { deleted: true, bytesGone: false };
        await db.query('DELETE FROM images WHERE id = $1', [sha]); // its chunks go with it (ON DELETE CASCADE)
        return { deleted: true, bytesGone: true };
      });
    },
    async usedBytes() {
      return Number((await db.query('SELECT COALESCE(SUM(size), 0) AS n FROM images'))[0]!['n']);
    },
    linkKey() {
      key ??= (async () => {
        await db.query('INSERT INTO image_link_key (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [randomBytes(32)]);
        return new Uint8Array((await db.query('SELECT key FROM image_link_key WHERE id = 1'))[0]!['key'] as Buffer);
      })();
      key.catch(() => {
        key = undefined;
      }); // a failed first try (database down) is tried again
      return key;
    },
    async put(id, size, bytes) {
      // one transaction: an instance uploading the same image at the same moment waits on the row, then finds it complete
      await db.transaction(async () => {
        // meta: what the row held before image_records; unused now
        const fresh = await db.query('INSERT INTO images (id, meta, size) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id', [
          id,
          '{}',
          size,
        ]);
        if (fresh.length === 0) return;
        let n = 0;
        let pending: Buffer[] = [];
        let held = 0;
        const flush = async (all: boolean): Promise<void> => {
          let buf = Buffer.concat(pending);
          while (buf.length >= CHUNK || (all && buf.length > 0)) {
            await db.query('INSERT INTO image_chunks (image_id, n, data) VALUES ($1, $2, $3)', [id, n++, buf.subarray(0, CHUNK)]);
            buf = buf.subarray(CHUNK);
          }
          pending = [buf];
          held = buf.length;
        };
        for await (const chunk of bytes) {
          pending.push(Buffer.from(chunk));
          held += chunk.length;
          if (held >= CHUNK) await flush(false);
        }
        await flush(true);
        await db.query('UPDATE images SET complete = true WHERE id = $1', [id]);
      });
    },
    async *read(id, start, end) {
      for (let n = Math.floor(start / CHUNK); n <= Math.floor(end / CHUNK); n += BATCH) {
        const rows = await db.query('SELECT n, data FROM image_chunks WHERE image_id = $1 AND n >= $2 AND n < $3 ORDER BY n', [
          id,
          n,
          n + BATCH,
        ]);
        for (const r of rows) {
          const at = Number(r['n']) * CHUNK;
          const data = r['data'] as Buffer;
          const from = Math.max(0, start - at);
          const to = Math.min(data.length, end - at + 1);
          if (from < to) yield data.subarray(from, to);
        }
      }
    },
  };
}
