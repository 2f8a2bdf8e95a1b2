// Images on the server: uploaded once, stored by SHA-256 under the data dir, served at
// /images/<sha256> (Range, HEAD, ETag) to gateways, or to devices when a gateway does not store
// them. Egress is counted so a test can see an image cross the WAN once. With a shared store
// (PostgreSQL) the bytes are also put there, so every instance serves what any one received; the
// local file stays as this instance's copy.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import type { SharedImages } from '../store/server.ts';

import { type ServeCounters, serveFile } from '../transport/index.ts';
import { ServiceError } from './service.ts';

export interface ImageInfo {
  readonly id: string; // hex SHA-256
  readonly name: string;
  readonly version: string;
  readonly size: number;
  readonly contentType: string;
  readonly createdAt: number;
}

const HEX = /^[0-9a-f]{64}$/;

export class ImageRepo {
  private readonly dir: string;
  private readonly shared: SharedImages | undefined;
  readonly served: ServeCounters = { bytes: 0, requests: 0 };

  constructor(dir: string, shared?: SharedImages) {
    this.dir = dir;
    this.shared = shared;
    mkdirSync(dir, { recursive: true });
  }

  private meta(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private local(id: string): ImageInfo | undefined {
    if (!HEX.test(id)) return undefined;
    try {
      return JSON.parse(readFileSync(this.meta(id), 'utf8')) as ImageInfo;
    } catch {
      return undefined;
    }
  }

  async get(id: string): Promise<ImageInfo | undefined> {
    const here = this.local(id);
    if (here || !this.shared || !HEX.test(id)) return here;
    const meta = await this.shared.get(id);
    return meta ? JSON.parse(meta) as ImageInfo : undefined;
  }

  async list(): Promise<ImageInfo[]> {
    if (this.shared) return (await this.shared.list()).map((m) => JSON.parse(m) as ImageInfo);
    return readdirSync(this.dir).filter((f) => f.endsWith('.json')).flatMap((f) => this.local(f.slice(0, -5)) ?? []);
  }

  /** Stores an upload (streamed, hashed on the way); the same bytes twice are stored once. */
  async add(body: AsyncIterable<Buffer>, info: { name: string; version: string; contentType: string }, maxBytes: number, now: number): Promise<ImageInfo> {
    const temp = join(this.dir, `upload-${process.pid}-${now}-${Math.random().toString(36).slice(2)}`);
    const hash = createHash('sha256');
    let size = 0;
    const out = createWriteStream(temp);
    try {
      for await (const chunk of body) {
        size += chunk.length;
        if (size > maxBytes) throw new ServiceError(413, `image over ${maxBytes} bytes`);
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } catch (err) {
      out.destroy();
      await rm(temp, { force: true });
      throw err;
    }
    if (size === 0) {
      await rm(temp, { force: true });
      throw new ServiceError(400, 'the image is empty: send its bytes as the request body');
    }
    const id = hash.digest('hex');
    await rename(temp, join(this.dir, id));
    const image: ImageInfo = (await this.get(id)) ?? { id, ...info, size, createdAt: now };
    writeFileSync(this.meta(id), JSON.stringify(image));
    await this.shared?.put(id, JSON.stringify(image), size, createReadStream(join(this.dir, id)));
    return image;
  }

  /** GET/HEAD /images/<sha256> */
  async serve(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const image = await this.get(id);
    if (!image) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no image ${id}\n`);
      return;
    }
    const path = join(this.dir, id);
    const shared = this.shared;
    // uploaded on another instance: streamed from the shared store
    const read = !existsSync(path) && shared ? (start: number, end: number) => Readable.from(shared.read(id, start, end)) : undefined;
    await serveFile(req, res, { path, size: read ? image.size : statSync(path).size, etag: id, contentType: image.contentType, ...(read ? { read } : {}) }, this.served);
  }
}
