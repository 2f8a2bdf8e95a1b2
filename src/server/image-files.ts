// The server's images in files, for a store only this process uses: the bytes once per SHA-256
// (`<dir>/<sha256>`), one JSON record per upload (`<dir>/records/<id>.json`), the link key
// (`<dir>/link-key`). Synchronous inside each call, so one process never interleaves two changes.
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

import type { SharedImages } from '../store/server.ts';
import { keyFile } from '../transport/index.ts';

const HEX = /^[0-9a-f]{64}$/;
/** what a record id may look like: a UUID, or a SHA-256 for uploads from before records */
export const IMAGE_ID = /^(?:[0-9a-f]{64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

interface Named {
  readonly id: string;
  readonly sha256?: string;
  readonly name: string;
  readonly version: string;
  readonly createdAt?: number;
}

export class FileImages implements SharedImages {
  private readonly dir: string;
  private readonly records: string;
  private key: Buffer | undefined;

  constructor(dir: string) {
    this.dir = dir;
    this.records = join(dir, 'records');
    mkdirSync(this.records, { recursive: true });
    // before records, `<sha256>.json` described the one upload of those bytes: it becomes its record
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json') || !HEX.test(f.slice(0, -5))) continue;
      const old = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Named;
      writeFileSync(join(this.records, f), JSON.stringify({ ...old, sha256: old.sha256 ?? old.id }));
      rmSync(join(dir, f));
    }
  }

  blobPath(sha256: string): string {
    return join(this.dir, sha256);
  }

  private all(): Named[] {
    return readdirSync(this.records)
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => {
        try {
          return [JSON.parse(readFileSync(join(this.records, f), 'utf8')) as Named];
        } catch {
          return []; // a record cut by a crash while written: not an image
        }
      })
      .sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || a.id.localeCompare(b.id));
  }

  async addRecord(id: string, _sha256: string, name: string, version: string, meta: string): Promise<boolean> {
    if (!IMAGE_ID.test(id)) throw new Error(`bad image id ${id}`);
    if (this.all().some((r) => r.name === name && r.version === version && r.id !== r.sha256)) return false;
    this.write(id, meta);
    return true;
  }

  private write(id: string, meta: string): void {
    const temp = join(this.records, `${id}.tmp`);
    writeFileSync(temp, meta);
    renameSync(temp, join(this.records, `${id}.json`));
  }

  async getRecord(id: string): Promise<string | undefined> {
    if (!IMAGE_ID.test(id)) return undefined;
    try {
      return readFileSync(join(this.records, `${id}.json`), 'utf8');
    } catch {
      return undefined;
    }
  }

  async listRecords(): Promise<string[]> {
    return this.all().map((r) => JSON.stringify(r));
  }

  async hasRecord(name: string, version: string): Promise<boolean> {
    return this.all().some((r) => r.name === name && r.version === version && r.id !== r.sha256);
  }

  async setRecord(id: string, meta: string): Promise<void> {
    if (IMAGE_ID.test(id) && existsSync(join(this.records, `${id}.json`))) this.write(id, meta);
  }

  async deleteRecord(id: string): Promise<{ deleted: boolean; bytesGone: boolean }> {
    const meta = await this.getRecord(id);
    if (meta === undefined) return { deleted: false, bytesGone: false };
    const sha = (JSON.parse(meta) as Named).sha256 ?? id;
    rmSync(join(this.records, `${id}.json`), { force: true });
    if (this.all().some((r) => (r.sha256 ?? r.id) === sha)) return { deleted: true, bytesGone: false };
    rmSync(this.blobPath(sha), { force: true });
    return { deleted: true, bytesGone: true };
  }

  async put(sha256: string, _size: number, bytes: AsyncIterable<Uint8Array>): Promise<void> {
    if (existsSync(this.blobPath(sha256))) return;
    const temp = `${this.blobPath(sha256)}.part`;
    await pipeline(Readable.from(bytes), createWriteStream(temp));
    renameSync(temp, this.blobPath(sha256));
  }

  async *read(sha256: string, start: number, end: number): AsyncIterable<Uint8Array> {
    yield* createReadStream(this.blobPath(sha256), { start, end });
  }

  async usedBytes(): Promise<number> {
    return readdirSync(this.dir)
      .filter((f) => HEX.test(f))
      .reduce((n, f) => n + statSync(join(this.dir, f)).size, 0);
  }

  async linkKey(): Promise<Uint8Array> {
    return (this.key ??= keyFile(join(this.dir, 'link-key')));
  }
}
