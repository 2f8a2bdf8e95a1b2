// Downloading a file over HTTP(S) to disk, resumable: a cut connection is picked up with a Range
// request from the bytes already written; the result is checked against size and SHA-256.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { pipeline } from 'node:stream/promises';

import { TransportError, TransportErrorCode } from '../errors.ts';

export interface FetchFileOptions {
  readonly url: string;
  /** the finished file; `${dest}.part` while downloading */
  readonly dest: string;
  readonly size?: number;
  /** hex SHA-256 the bytes must have */
  readonly sha256?: string;
  /** attempts after a cut connection */
  readonly resumes?: number;
  readonly timeoutMs?: number;
  readonly onProgress?: (bytes: number) => void;
  readonly ca?: string | Buffer;
  /** stops the download (FetchFileError 'cancelled'; the `.part` goes) */
  readonly signal?: AbortSignal;
}

export type FetchFailure = 'unreachable' | 'http-status' | 'size-mismatch' | 'hash-mismatch' | 'too-large' | 'cancelled';

export class FetchFileError extends Error {
  readonly reason: FetchFailure;
  constructor(reason: FetchFailure, message: string) {
    super(message);
    this.name = 'FetchFileError';
    this.reason = reason;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function request(url: string, from: number, timeoutMs: number, ca?: string | Buffer, signal?: AbortSignal): Promise<IncomingMessage> {
  const u = new URL(url);
  const get = u.protocol === 'https:' ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const req = get(
      u,
      { headers: from > 0 ? { range: `bytes=${from}-` } : {}, timeout: timeoutMs, ...(ca ? { ca } : {}), ...(signal ? { signal } : {}) },
      resolve,
    );
    req.on('timeout', () => req.destroy(new TransportError(TransportErrorCode.Timeout, `no answer from ${u.host} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Downloads to `dest`; on any failure nothing is left behind (no `.part`, no `dest`). */
export async function fetchFile(o: FetchFileOptions): Promise<{ bytes: number; sha256: string }> {
  const part = `${o.dest}.part`;
  const cancelled = (): void => {
    if (o.signal?.aborted) throw new FetchFileError('cancelled', `the download of ${o.url} was cancelled`);
  };
  try {
    for (let attempt = 0; ; attempt++) {
      cancelled();
      const have = await sizeOf(part);
      if (o.size !== undefined && have > o.size) throw new FetchFileError('too-large', `more than the ${o.size} bytes announced`);
      if (o.size !== undefined && have === o.size && have > 0) break;
      let res: IncomingMessage;
      try {
        res = await request(o.url, have, o.timeoutMs ?? 30_000, o.ca, o.signal);
      } catch (err) {
        cancelled();
        if (attempt < (o.resumes ?? 3)) continue;
        throw new FetchFileError('unreachable', `cannot download ${o.url}: ${(err as Error).message}`);
      }
      if (res.statusCode === 416 && have > 0 && o.size === undefined) {
        res.resume();
        break; // the server has nothing past what we hold
      }
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        res.resume();
        throw new FetchFileError('http-status', `${o.url} answered HTTP ${res.statusCode}`);
      }
      // a server that ignores Range starts again from byte 0
      const append = res.statusCode === 206 && have > 0;
      const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
      let written = append ? have : 0;
      res.on('data', (c: Buffer) => {
        written += c.length;
        o.onProgress?.(written);
      });
      const ok = await pipeline(res, out, ...(o.signal ? [{ signal: o.signal }] : [])).then(
        () => res.complete,
        () => false,
      );
      // the next attempt measures the .part file: every write of this one must have landed first
      if (!out.closed) await once(out, 'close');
      cancelled();
      if (ok) break;
      if (attempt >= (o.resumes ?? 3)) throw new FetchFileError('unreachable', `the download of ${o.url} was cut ${attempt + 1} times`);
    }
    const bytes = await sizeOf(part);
    if (o.size !== undefined && bytes !== o.size) throw new FetchFileError('size-mismatch', `got ${bytes} bytes, ${o.size} were announced`);
    const sha256 = await hashFile(part);
    if (o.sha256 !== undefined && sha256 !== o.sha256.toLowerCase())
      throw new FetchFileError('hash-mismatch', `SHA-256 is ${sha256}, not ${o.sha256}`);
    await rename(part, o.dest);
    return { bytes, sha256 };
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
