// Serving a stored file over HTTP the way downloaders expect: Range (one range; resume), HEAD,
// ETag / If-None-Match, 416 past the end; streamed from disk, never read whole into memory.
// What we serve was uploaded by someone: it is always bytes to save, never a page a browser would
// render or run on our origin, whatever type the uploader claimed (headers below, on every answer).
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
  /** the name a browser saves it under (sanitised here) */
  readonly filename?: string;
}

/** Sent with every answer about a stored file, errors included: nothing in it is rendered or run. */
export const INERT_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'cross-origin-resource-policy': 'same-origin',
} as const;

/** RFC 6266 Content-Disposition: an ASCII fallback name and the UTF-8 one, no quote, slash or control character in either. */
export function attachment(filename: string | undefined): string {
  const clean = [...(filename ?? '').replace(/^[.\s]+/, '')]
    .filter((ch) => !/[\p{C}\\/"]/u.test(ch))
    .slice(0, 120)
    .join('');
  if (clean === '') return 'attachment; filename="image.bin"';
  const ascii = clean.replace(/[^A-Za-z0-9._ ()+,=@-]/g, '_');
  // RFC 8187 ext-value: attr-char only; everything else percent-encoded
  const ext = [...Buffer.from(clean, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9!#$&+.^_`|~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${ext}`;
}

/** A short plain-text answer (404, 401, …) from a file route, as inert as the files themselves. */
export function sendPlain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, { ...INERT_HEADERS, ...headers, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
    .end(`${text}\n`);
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

/** `position`: after each chunk, how far into the file the answer has gone (a Range answer counts from its start). */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: ServedFile,
  counters?: ServeCounters,
  position?: (at: number, size: number) => void,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendPlain(res, 405, 'GET or HEAD', { allow: 'GET, HEAD' });
    return;
  }
  if (counters) counters.requests++;
  const etag = `"${file.etag.replace(/"/g, '')}"`;
  const common = { ...INERT_HEADERS, etag, 'accept-ranges': 'bytes', 'cache-control': 'private, max-age=31536000, immutable' };
  const inm = req.headers['if-none-match'];
  if (inm !== undefined && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    res.writeHead(304, common).end();
    return;
  }
  const range = parseRange(req.headers.range, file.size);
  if (range === 'bad') {
    sendPlain(res, 416, `range past the end of a ${file.size}-byte file`, { 'content-range': `bytes */${file.size}` });
    return;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size - 1;
  const length = file.size === 0 ? 0 : end - start + 1;
  res.writeHead(range ? 206 : 200, {
    ...common,
    'content-type': 'application/octet-stream',
    'content-disposition': attachment(file.filename),
    'content-length': length,
    ...(range ? { 'content-range': `bytes ${start}-${end}/${file.size}` } : {}),
  });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream: Readable = file.read ? file.read(start, end) : createReadStream(file.path, { start, end });
    let at = start;
    stream.on('data', (chunk) => {
      if (counters) counters.bytes += chunk.length;
      at += chunk.length;
      position?.(at, file.size);
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
