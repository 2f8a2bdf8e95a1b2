// Posts DM messages to a server over HTTP(S) with keep-alive. Retries like the AOSP client: on
// 408, 500, 502, 503, 504 and connection errors, a bounded number of times with growing delays.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
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

  private once(url: string, message: DmHttpMessage): Promise<DmHttpMessage> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const request = secure ? httpsRequest : httpRequest;
    const timeout = this.options.timeoutMs ?? 30_000;
    const max = this.options.maxResponseBytes ?? 8 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          agent: secure ? this.https : this.http,
          headers: {
            'content-type': message.contentType ?? contentTypeOf(message.encoding),
            accept: `${contentTypeOf(message.encoding)}`,
            'content-length': message.body.length,
            'cache-control': 'private',
            'user-agent': 'gwmo',
            ...(message.hmac ? { [HMAC_HEADER]: message.hmac } : {}),
          },
          timeout,
        },
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
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            if (status !== 200) {
              const detail = body.toString('utf8').trim().slice(0, 200);
              reject(
                new TransportError(TransportErrorCode.HttpStatus, `${url} answered HTTP ${status}${detail ? `: ${detail}` : ''}`, status),
              );
              return;
            }
            const encoding = encodingOf(res.headers['content-type']);
            if (encoding === undefined) {
              reject(
                new TransportError(
                  TransportErrorCode.BadResponse,
                  `${url} answered with Content-Type ${res.headers['content-type'] ?? '(none)'}, not a DM message`,
                ),
              );
              return;
            }
            const hmac = res.headers[HMAC_HEADER];
            resolve({ body: new Uint8Array(body), encoding, ...(typeof hmac === 'string' ? { hmac } : {}) });
          });
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
      req.end(message.body);
    });
  }
}

const defaultDelay = (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
