// An LwM2M Bootstrap Server (LwM2M 1.1 TS §5.2.7, §6.1): takes a Bootstrap-Request
// (POST /bs?ep=<endpoint>[&pct=<format>]), answers 2.04, then runs the server-initiated sequence on
// the client: Delete /0 and /1 (the client keeps its bootstrap account, §5.2.7.5), Bootstrap-Discover
// /0 (1.1: which instance the bootstrap account holds), Write /0/<x> (Security) and /1/<x> (Server)
// per server account, Bootstrap-Finish (POST /bs). Who gets what is the caller's: config().
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';

import coap from 'coap';

import { encodePayload } from './codec.ts';
import { ContentFormat, type ResourceValue } from './model.ts';
import { formatNumber, keyBlock1ByPeer } from './server.ts';

/** Security Mode (/0/x/2) */
export const SecurityMode = { Psk: 0, Rpk: 1, Certificate: 2, NoSec: 3 } as const;

/** One LwM2M server account the client is given: a Security and a Server instance. */
export interface ServerAccount {
  readonly uri: string;
  readonly securityMode: number;
  /** PSK identity (UTF-8 bytes) or the client's public key */
  readonly identity?: Uint8Array;
  readonly secretKey?: Uint8Array;
  readonly serverPublicKey?: Uint8Array;
  readonly shortServerId: number;
  readonly lifetimeS: number;
  readonly binding: string;
}

export interface BootstrapPeer {
  readonly address: string;
  readonly port: number;
  /** the PSK identity the peer's DTLS session was made with; undefined on plain CoAP */
  readonly identity?: string;
}

/** What config() decides: the accounts to write, 'unknown' (4.00) or 'refused' (4.03: wrong security for this endpoint). */
export type BootstrapDecision = { readonly accounts: readonly ServerAccount[] } | 'unknown' | 'refused';

export interface Lwm2mBootstrapOptions {
  readonly host?: string;
  readonly port?: number;
  /** a bound dgram-shaped socket to serve on instead of host:port (the clear side of a DTLS server) */
  readonly socket?: Socket;
  /** per request to the client */
  readonly timeoutMs?: number;
  /** bootstraps running at once at most; more Bootstrap-Requests are answered 5.03 */
  readonly maxRunning?: number;
  config(endpoint: string, peer: BootstrapPeer): BootstrapDecision;
  /** the secured listener's seam: the PSK identity a peer completed its handshake with */
  identityOf?(address: string, port: number): string | undefined;
}

/** TLV first (LwM2M 1.0 mandates it), then the SenML formats; a client's `pct` goes before them all */
const WRITE_FORMATS: readonly number[] = [ContentFormat.Tlv, ContentFormat.SenmlCbor, ContentFormat.SenmlJson];

/**
 * Events: 'bootstrapped' (endpoint, accounts), 'failed' (endpoint, reason), 'refused' (endpoint, peer, why).
 */
export class Lwm2mBootstrapServer extends EventEmitter {
  private readonly options: Lwm2mBootstrapOptions;
  private socket: Socket | undefined;
  private server: coap.Server | undefined;
  private agent: coap.Agent | undefined;
  private readonly running = new Set<string>();
  /** requests to clients waiting for an answer: closing ends them */
  private readonly waiting = new Set<(err: Error) => void>();
  private closed = false;

  constructor(options: Lwm2mBootstrapOptions) {
    super();
    this.options = options;
  }

  async listen(): Promise<{ host: string; port: number }> {
    const socket = this.options.socket ?? createSocket('udp4');
    if (!this.options.socket)
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(this.options.port ?? 5783, this.options.host ?? '127.0.0.1', () => resolve());
      });
    this.socket = socket;
    this.server = coap.createServer();
    keyBlock1ByPeer(this.server, 64 * 1024);
    this.server.on('request', (req: coap.IncomingMessage, res: coap.OutgoingMessage) => this.onRequest(req, res));
    this.server.listen(socket);
    this.agent = new coap.Agent({ socket });
    const a = socket.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  private onRequest(req: coap.IncomingMessage, res: coap.OutgoingMessage): void {
    const reply = (code: string, message = ''): void => {
      res.code = code;
      res.end(message);
    };
    const url = new URL(req.url, 'coap://x');
    if (url.pathname !== '/bs') return reply('4.04', 'only /bs (Bootstrap-Request) here');
    if (req.method !== 'POST') return reply('4.05', 'POST');
    const endpoint = url.searchParams.get('ep');
    if (!endpoint || endpoint.length > 256 || /\p{Cc}/u.test(endpoint)) return reply('4.00', 'ep (endpoint name) is required');
    const pct = url.searchParams.get('pct');
    const preferred = pct !== null ? formatNumber(pct) : undefined;
    const { address, port } = req.rsinfo;
    const identity = this.options.identityOf?.(address, port);
    const peer: BootstrapPeer = { address, port, ...(identity !== undefined ? { identity } : {}) };
    const decision = this.options.config(endpoint, peer);
    if (decision === 'unknown') return reply('4.00', 'no bootstrap configuration for this endpoint');
    if (decision === 'refused') {
      this.emit('refused', endpoint, peer, identity === undefined ? 'plain CoAP' : `identity ${identity}`);
      return reply('4.03', 'not with this security');
    }
    // a retransmitted or repeated request while its sequence runs starts nothing new
    if (this.running.has(endpoint)) return reply('2.04');
    if (this.running.size >= (this.options.maxRunning ?? 100)) return reply('5.03', 'busy');
    this.running.add(endpoint);
    reply('2.04');
    // the client sends nothing more; the sequence starts once our 2.04 is on its way
    setImmediate(
      () =>
        void this.sequence(endpoint, address, port, decision.accounts, preferred)
          .then(() => this.emit('bootstrapped', endpoint, decision.accounts))
          .catch((err: Error) => this.emit('failed', endpoint, err.message))
          .finally(() => this.running.delete(endpoint)),
    );
  }

  private async sequence(
    endpoint: string,
    host: string,
    port: number,
    accounts: readonly ServerAccount[],
    preferred: number | undefined,
  ): Promise<void> {
    const ask = (
      method: 'GET' | 'PUT' | 'POST' | 'DELETE',
      path: string,
      body?: { format: number; payload: Uint8Array },
      accept?: number,
    ) => this.request(host, port, method, path, body, accept);
    const must = async (what: string, p: Promise<{ code: string; payload: Buffer }>): Promise<void> => {
      const r = await p;
      if (!r.code.startsWith('2.')) throw new Error(`${what} answered ${r.code}`);
    };
    await must('Delete /0', ask('DELETE', '/0'));
    await must('Delete /1', ask('DELETE', '/1'));
    // what is left of /0 is the bootstrap account (1.1 Bootstrap-Discover); a 1.0 client has it at /0/0
    const found = await ask('GET', '/0', undefined, ContentFormat.LinkFormat).catch(() => undefined);
    const taken = new Set(
      found?.code === '2.05' ? [...found.payload.toString('utf8').matchAll(/<\/0\/(\d+)>/g)].map((m) => Number(m[1])) : [0],
    );
    const free = (): number => {
      let id = 0;
      while (taken.has(id)) id++;
      taken.add(id);
      return id;
    };
    let formats = [...new Set([...(preferred !== undefined && WRITE_FORMATS.includes(preferred) ? [preferred] : []), ...WRITE_FORMATS])];
    const write = async (what: string, objectId: number, values: (instanceId: number) => ResourceValue[], instanceId: number) => {
      for (;;) {
        const format = formats[0]!;
        const r = await ask('PUT', `/${objectId}/${instanceId}`, { format, payload: encodePayload(format, values(instanceId)) });
        // 4.15: the client does not take this format; the next one, and not this one again
        if (r.code === '4.15' && formats.length > 1) {
          formats = formats.slice(1);
          continue;
        }
        if (!r.code.startsWith('2.')) throw new Error(`${what} answered ${r.code}`);
        return;
      }
    };
    let serverInstance = 0;
    for (const a of accounts) {
      await write('Write /0 (Security)', 0, (i) => securityValues(i, a), free());
      await write('Write /1 (Server)', 1, (i) => serverValues(i, a), serverInstance++);
    }
    await must('Bootstrap-Finish', ask('POST', '/bs'));
  }

  private request(
    host: string,
    port: number,
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    pathname: string,
    body?: { format: number; payload: Uint8Array },
    accept?: number,
  ): Promise<{ code: string; payload: Buffer }> {
    if (this.closed || !this.agent) return Promise.reject(new Error('the bootstrap server stopped'));
    return new Promise((resolve, reject) => {
      const req = coap.request({ host, port, method, pathname, agent: this.agent! });
      const fail = (err: Error): void => {
        clearTimeout(timer);
        this.waiting.delete(fail);
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`no answer to ${method} ${pathname}`)), this.options.timeoutMs ?? 10_000);
      this.waiting.add(fail);
      if (body) req.setOption('Content-Format', body.format);
      if (accept !== undefined) req.setOption('Accept', accept);
      req.on('response', (res: coap.IncomingMessage) => {
        clearTimeout(timer);
        this.waiting.delete(fail);
        resolve({ code: res.code, payload: res.payload });
      });
      req.on('error', fail);
      req.end(body ? Buffer.from(body.payload) : undefined);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent?.close();
    for (const fail of [...this.waiting]) fail(new Error('the bootstrap server stopped'));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    try {
      this.socket?.close();
    } catch {
      // closed with the server
    }
  }
}

/** Security object (0) instance: LwM2M 1.1 TS Appendix E.1 */
function securityValues(instanceId: number, a: ServerAccount): ResourceValue[] {
  const at = (resourceId: number, value: ResourceValue['value']): ResourceValue => ({
    path: { objectId: 0, instanceId, resourceId },
    value,
  });
  return [
    at(0, a.uri),
    at(1, false),
    at(2, a.securityMode),
    at(3, a.identity ?? new Uint8Array()),
    at(4, a.serverPublicKey ?? new Uint8Array()),
    at(5, a.secretKey ?? new Uint8Array()),
    at(10, a.shortServerId),
  ];
}

/** Server object (1) instance: Appendix E.2 */
function serverValues(instanceId: number, a: ServerAccount): ResourceValue[] {
  const at = (resourceId: number, value: ResourceValue['value']): ResourceValue => ({
    path: { objectId: 1, instanceId, resourceId },
    value,
  });
  return [at(0, a.shortServerId), at(1, a.lifetimeS), at(6, false), at(7, a.binding)];
}
