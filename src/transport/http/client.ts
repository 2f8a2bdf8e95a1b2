// Posts DM messages to a server over HTTP(S) with keep-alive. Retries like the AOSP client: on
// 408, 500, 502, 503, 504 and connection errors, a bounded number of times with growing delays.
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

import { HMAC_HEADER } from '../../protocol/index.ts';
import { TransportError, TransportErrorCode } from '../errors.ts';
import { contentTypeOf, type Encoding, encodingOf } from './content-type.ts';

export interface DmHttpClientOptions {
  readonly timeoutMs?: number;
  readonly retries?: number;
  /** delay before retry n (1-based); injectable so tests do not wait */
  readonly retryDelay?: (attempt: number) => Promise<void>;
  /** extra CA for HTTPS (e.g. a self-signed server certificate) */
  readonly ca?: string | Buffer;
  readonly maxResponseBytes?: number;
  /** connections kept per host (a simulated fleet shares one client) */
  readonly maxSockets?: number;
}

export interface DmHttpMessage {
  readonly body: Uint8Array;
  readonly encoding: Encoding;
  readonly hmac?: string;
  /** sent instead of the DM type of the encoding (a simulated device posting a generic SyncML type) */
  readonly contentType?: string;
}

export interface HttpExchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const RETRIED = new Set([408, 500, 502, 503, 504]);

export class DmHttpClient {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;
  private readonly options: DmHttpClientOptions;

  constructor(options: DmHttpClientOptions = {}) {
    this.options = options;
    const maxSockets = options.maxSockets ?? 4;
    this.http = new HttpAgent({ keepAlive: true, maxSockets });
    this.https = new HttpsAgent({ keepAlive: true, maxSockets, ...(options.ca ? { ca: options.ca } : {}) });
  }

  async post(url: string, message: DmHttpMessage): Promise<DmHttpMessage> {
    const retries = this.options.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(url, message);
      } catch (err) {
        const retriable =
          err instanceof TransportError &&
          (err.code === TransportErrorCode.Connect || (err.httpStatus !== undefined && RETRIED.has(err.httpStatus)));
        if (!retriable || attempt >= retries) throw err;
        await (this.options.retryDelay ?? defaultDelay)(attempt + 1);
      }
    }
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private async once(url: string, message: DmHttpMessage): Promise<DmHttpMessage> {
    const res = await this.exchange(url, message.body, {
      'content-type': message.contentType ?? contentTypeOf(message.encoding),
      accept: `${contentTypeOf(message.encoding)}`,
      'cache-control': 'private',
      'user-agent': 'gwmo',
      ...(message.hmac ? { [HMAC_HEADER]: message.hmac } : {}),
    });
    if (res.status !== 200) {
      const detail = res.body.toString('utf8').trim().slice(0, 200);
      throw new TransportError(
        TransportErrorCode.HttpStatus,
        `${url} answered HTTP ${res.status}${detail ? `: ${detail}` : ''}`,
        res.status,
      );
    }
    const encoding = encodingOf(res.headers['content-type']);
    if (encoding === undefined) {
      throw new TransportError(
        TransportErrorCode.BadResponse,
        `${url} answered with Content-Type ${res.headers['content-type'] ?? '(none)'}, not a DM message`,
      );
    }
    const hmac = res.headers[HMAC_HEADER];
    return { body: new Uint8Array(res.body), encoding, ...(typeof hmac === 'string' ? { hmac } : {}) };
  }

  /**
   * One POST on the kept-alive sockets, never retried, whatever the status: for callers that relay
   * the answer as it is (an instance forwarding a DM message to the one holding the session).
   */
  exchange(url: string, body: Uint8Array, headers: OutgoingHttpHeaders): Promise<HttpExchange> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const request = secure ? httpsRequest : httpRequest;
    const timeout = this.options.timeoutMs ?? 30_000;
    const max = this.options.maxResponseBytes ?? 8 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        { method: 'POST', agent: secure ? this.https : this.http, headers: { ...headers, 'content-length': body.length }, timeout },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > max) {
              req.destroy(new TransportError(TransportErrorCode.BadResponse, `response from ${target.host} over ${max} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('error', (err) => reject(new TransportError(TransportErrorCode.Connect, `${target.host}: ${err.message}`)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on('timeout', () =>
        req.destroy(new TransportError(TransportErrorCode.Timeout, `no answer from ${target.host} within ${timeout} ms`)),
      );
      req.on('error', (err) =>
        reject(
          err instanceof TransportError
            ? err
            : new TransportError(TransportErrorCode.Connect, `cannot reach ${target.host}: ${err.message}; is the server running?`),
        ),
      );
      req.end(body);
    });
  }
}

const defaultDelay = (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
