// Serving a stored file over HTTP the way downloaders expect: Range (one range; resume), HEAD,
// ETag / If-None-Match, 416 past the end; streamed from disk, never read whole into memory.
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

export interface ServedFile {
  readonly path: string;
  /** bytes start..end (inclusive) from somewhere other than `path` (a database) */
  readonly read?: (start: number, end: number) => Readable;
  readonly size: number;
  /** quoted or bare; sent quoted */
  readonly etag: string;
  readonly contentType?: string;
}

export interface ServeCounters {
  bytes: number;
  requests: number;
}

/** The byte range asked for: undefined = whole file; 'bad' = unsatisfiable (416). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | 'bad' {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // not a single byte range: serve the whole file (RFC 9110 allows ignoring)
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'bad';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'bad';
  return { start, end };
}

export async function serveFile(req: IncomingMessage, res: ServerResponse, file: ServedFile, counters?: ServeCounters): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET or HEAD\n');
    return;
  }
  if (counters) counters.requests++;
  const etag = `"${file.etag.replace(/"/g, '')}"`;
  const common = { etag, 'accept-ranges': 'bytes', 'cache-control': 'private, max-age=31536000, immutable' };
  const inm = req.headers['if-none-match'];
  if (inm !== undefined && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    res.writeHead(304, common).end();
    return;
  }
  const range = parseRange(req.headers.range, file.size);
  if (range === 'bad') {
    res.writeHead(416, { ...common, 'content-range': `bytes */${file.size}`, 'content-type': 'text/plain' }).end(`range past the end of a ${file.size}-byte file\n`);
    return;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size - 1;
  const length = file.size === 0 ? 0 : end - start + 1;
  res.writeHead(range ? 206 : 200, {
    ...common, 'content-type': file.contentType ?? 'application/octet-stream', 'content-length': length,
    ...(range ? { 'content-range': `bytes ${start}-${end}/${file.size}` } : {}),
  });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream: Readable = file.read ? file.read(start, end) : createReadStream(file.path, { start, end });
    stream.on('data', (chunk) => {
      if (counters) counters.bytes += chunk.length;
    });
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
