// The DM endpoint over HTTP(S): POST with a DM content type; the body's bytes and the HMAC header go
// to the handler untouched (the MAC covers them as sent). Other requests go to `fallback` (the REST
// API and the dashboard share the listener).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

import { HMAC_HEADER } from '../../protocol/index.ts';
import type { TrustedProxies } from './client-address.ts';
import { contentTypeOf, type Encoding, encodingOf } from './content-type.ts';

export interface DmHttpRequest {
  readonly body: Uint8Array;
  readonly encoding: Encoding;
  readonly hmac?: string;
  /** path and query, for RespURI routing */
  readonly url: string;
  readonly remoteAddress: string;
  /** the x-gwmo-forward header: another server instance passed this message on (checked by the server) */
  readonly forward?: string;
}

/** carries a DM message from the server instance that received it to the one holding its session */
export const FORWARD_HEADER = 'x-gwmo-forward';

export type DmHttpReply =
  | { readonly body: Uint8Array; readonly encoding: Encoding; readonly hmac?: string }
  | { readonly httpStatus: number; readonly message: string /** seconds */; readonly retryAfter?: number };

export interface DmHttpServerOptions {
  readonly handler: (req: DmHttpRequest) => Promise<DmHttpReply>;
  readonly host?: string;
  readonly port?: number;
  /** the DM endpoint's path (default /dm) */
  readonly path?: string;
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** largest DM message accepted: bodies past it are refused with 413 */
  readonly maxMsgSize: number;
  /** load balancers whose X-Forwarded-For names the device's address */
  readonly trustedProxies?: TrustedProxies;
  readonly fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  readonly onError?: (err: unknown) => void;
  /**
   * the answer to an error that is not a bug (the database is away: 503 with Retry-After); such an
   * error is not passed to onError: the role logs the outage once, not once per request
   */
  readonly errorReply?: (
    err: unknown,
    /** the request was a DM message (to the DM path), not one for the fallback */
    dm: boolean,
  ) => { readonly httpStatus: number; readonly message: string; readonly retryAfter?: number } | undefined;
}

export class DmHttpServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly options: DmHttpServerOptions;
  private readonly path: string;

  constructor(options: DmHttpServerOptions) {
    this.options = options;
    this.path = options.path ?? '/dm';
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      this.serve(req, res).catch((err: unknown) => {
        const reply = options.errorReply?.(err, (req.url ?? '').split('?')[0] === this.path);
        if (!reply) options.onError?.(err);
        if (res.headersSent) {
          if (!res.writableEnded) res.destroy();
        } else if (reply) text(res, reply.httpStatus, reply.message, reply.retryAfter);
        else text(res, 500, 'internal error; see the server log');
      });
    };
    this.server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createHttpServer(listener);
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<{ port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port, address } = this.server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    return { port, url: `${this.options.tls ? 'https' : 'http'}://${host}:${port}${this.path}` };
  }

  get connections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    // once here for every route of every listener (DM, API, dashboard, push, images, metrics)
    if (!decodable(url)) {
      req.resume();
      text(res, 400, 'the path or query has malformed percent-encoding (% must start a UTF-8 byte as two hex digits)');
      return;
    }
    if (url.split('?')[0] !== this.path) {
      if (this.options.fallback && (await this.options.fallback(req, res))) return;
      text(res, 404, `nothing at ${url.split('?')[0]}; DM clients post to ${this.path}`);
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      text(res, 405, 'DM messages are sent with POST');
      return;
    }
    const encoding = encodingOf(req.headers['content-type']);
    if (encoding === undefined) {
      text(res, 415, `Content-Type must be application/vnd.syncml.dm+xml or +wbxml, not ${req.headers['content-type'] ?? '(none)'}`);
      req.resume();
      return;
    }
    const max = this.options.maxMsgSize;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > max) {
      tooLarge(res, max);
      return;
    }
    const body = await readBody(req, max);
    if (body === undefined) {
      tooLarge(res, max);
      return;
    }
    const hmacHeader = req.headers[HMAC_HEADER];
    const forward = req.headers[FORWARD_HEADER];
    const reply = await this.options.handler({
      body,
      encoding,
      url,
      remoteAddress: this.options.trustedProxies?.clientOf(req) ?? req.socket.remoteAddress ?? '',
      ...(typeof hmacHeader === 'string' ? { hmac: hmacHeader } : {}),
      ...(typeof forward === 'string' ? { forward } : {}),
    });
    if ('httpStatus' in reply) {
      text(res, reply.httpStatus, reply.message, reply.retryAfter);
      return;
    }
    res.writeHead(200, {
      'content-type': contentTypeOf(reply.encoding),
      'content-length': reply.body.length,
      'cache-control': 'private',
      ...(reply.hmac ? { [HMAC_HEADER]: reply.hmac } : {}),
    });
    res.end(reply.body);
  }
}

function decodable(url: string): boolean {
  try {
    decodeURIComponent(url);
    return true;
  } catch {
    return false;
  }
}

function text(res: ServerResponse, status: number, message: string, retryAfter?: number): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(message) + 1,
    ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}),
  });
  res.end(`${message}\n`);
}

function tooLarge(res: ServerResponse, max: number): void {
  // the rest of the body is not read: close the connection instead of draining it
  res.setHeader('connection', 'close');
  text(res, 413, `DM message over the MaxMsgSize of ${max} bytes`);
}

/** The body, or undefined as soon as it passes `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}
