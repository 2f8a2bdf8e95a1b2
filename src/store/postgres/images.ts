// Uploaded images in PostgreSQL, so a gateway can download from any instance what was uploaded on
// another: bytes in 256 KiB bytea chunks (a Range request reads only the chunks it covers, a few
// at a time, never the whole image into memory).
import type { SharedImages } from '../server.ts';
import type { PgPool } from './pool.ts';

export const IMAGE_TABLES = `CREATE TABLE images (id TEXT PRIMARY KEY, meta TEXT NOT NULL, size BIGINT NOT NULL, complete BOOLEAN NOT NULL DEFAULT false);
   CREATE TABLE image_chunks (image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, n INTEGER NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (image_id, n));`;

const CHUNK = 256 * 1024;
/** chunks fetched per query while streaming */
const BATCH = 8;

export function pgImages(db: PgPool): SharedImages {
  return {
    async get(id) {
      const r = (await db.query('SELECT meta FROM images WHERE id = $1 AND complete', [id]))[0];
      return r ? String(r['meta']) : undefined;
    },
    async list() {
      return (await db.query('SELECT meta FROM images WHERE complete ORDER BY id')).map((r) => String(r['meta']));
    },
    async put(id, meta, size, bytes) {
      // one transaction: an instance uploading the same image at the same moment waits on the row, then finds it complete
      await db.transaction(async () => {
        const fresh = await db.query('INSERT INTO images (id, meta, size) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id', [id, meta, size]);
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
        const rows = await db.query('SELECT n, data FROM image_chunks WHERE image_id = $1 AND n >= $2 AND n < $3 ORDER BY n', [id, n, n + BATCH]);
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
