// The gateway as an LwM2M server on UDP (CoAP, node-coap): the registration interface (Register,
// Update, De-register, lifetimes) and requests to registered devices (Read, Write, Execute,
// Create, Delete, Discover). One UDP socket serves both directions.
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';

import coap from 'coap';

import { announcedFormats, type DeviceFormats } from './formats.ts';
import { CoapExchangeError, CoapExchangeErrorCode } from './errors.ts';
import { type Link, parseLinks } from './link.ts';
import { ContentFormat, type Path, pathText } from './model.ts';

export interface Registration {
  readonly id: string;
  readonly endpoint: string;
  readonly address: string;
  readonly port: number;
  readonly lifetimeS: number;
  readonly binding: string;
  readonly version: string;
  readonly links: readonly Link[];
  /** content formats it announced and refused (formats.ts) */
  readonly formats: DeviceFormats;
  readonly registeredAt: number;
  updatedAt: number;
  /** LwM2M queue mode (1.1 `Q`, 1.0 `b=UQ`): the device sleeps; requests wait until it speaks */
  readonly queueMode: boolean;
  /** bytes per block for Block1 writes: the size the device used itself (its Register), else the server's */
  readonly blockSize: number;
  /** the DTLS identity it registered with (coaps); absent over plain CoAP (NoSec) */
  readonly identity?: string;
}

/** coaps: the clear side of the DTLS associations (a dgram-shaped socket) and who each peer is. */
export interface SecureListener {
  readonly socket: Socket;
  /** the authenticated identity (PSK identity) of the association at address:port */
  identity(address: string, port: number): string | undefined;
  /** the one endpoint an identity may register as; undefined: none */
  endpointFor(identity: string): string | undefined;
}

export interface CoapAnswer {
  /** CoAP response code, e.g. "2.05" */
  readonly code: string;
  readonly format?: number;
  readonly payload: Uint8Array;
}

export interface Lwm2mServerOptions {
  readonly host?: string;
  readonly port?: number;
  readonly now?: () => number;
  /** per request; CoAP itself retransmits confirmable messages (RFC 7252 defaults) */
  readonly timeoutMs?: number;
  /** payloads above this go block-wise (RFC 7959 Block1); 16…1024, a power of two */
  readonly blockSize?: number;
  /** a write larger than this is refused before anything is sent */
  readonly maxPayload?: number;
  /** how long a queue-mode device stays reachable after it last spoke (LwM2M 1.1: MAX_TRANSMIT_WAIT, 93 s) */
  readonly awakeMs?: number;
  /** plain CoAP (NoSec) on host:port; false: only the secured listener */
  readonly nosec?: boolean;
  readonly secure?: SecureListener;
}

const DEFAULT_BLOCK = 1024;
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * Events: 'registered' (reg), 'updated' (reg, addressChanged), 'deregistered' (reg),
 * 'expired' (reg) — the last when a lifetime ran out without an Update; 'awake' (reg) and
 * 'asleep' (reg) for queue-mode devices; 'send' (reg, answer) for an LwM2M 1.1 Send (POST /dp);
 * 'refused' ({ endpoint, identity, address, port, reason }) for a registration its identity may not make.
 */
export class Lwm2mServer extends EventEmitter {
  private readonly options: Lwm2mServerOptions;
  private readonly byId = new Map<string, Registration>();
  private readonly byEndpoint = new Map<string, string>();
  private socket: Socket | undefined;
  private server: coap.Server | undefined;
  private agent: coap.Agent | undefined;
  private secureServer: coap.Server | undefined;
  private secureAgent: coap.Agent | undefined;
  /** requests waiting for an answer: closing ends them (the agent's retransmissions would otherwise send on a closed socket) */
  private readonly waiting = new Set<(err: Error, abort?: boolean) => void>();
  /** queue mode: requests held for a sleeping device, started when it next speaks */
  private readonly held = new Map<string, Set<() => void>>();
  /** queue mode: endpoint → until when it listens (absent: asleep) */
  private readonly awakeUntil = new Map<string, number>();
  private readonly byAddress = new Map<string, string>();
  private sweep: NodeJS.Timeout | undefined;
  private counter = 0;

  constructor(options: Lwm2mServerOptions = {}) {
    super();
    this.options = options;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async listen(): Promise<{ host: string; port: number }> {
    const secure = this.options.secure;
    if (secure) {
      this.secureServer = coap.createServer();
      keyBlock1ByPeer(this.secureServer, this.options.maxPayload ?? DEFAULT_MAX_PAYLOAD);
      this.secureServer.on('request', (req: coap.IncomingMessage, res: coap.OutgoingMessage) => this.onRequest(req, res, true));
      this.secureServer.listen(secure.socket);
      this.secureAgent = new coap.Agent({ socket: secure.socket });
    }
    if (this.options.nosec === false) {
      this.startSweep();
      const a = secure!.socket.address();
      return { host: a.address, port: a.port };
    }
    // a fanout answers in bursts: a larger receive buffer keeps the kernel from dropping them
    // (capped by net.core.rmem_max; CoAP would retransmit after 2–3 s, which is what it costs)
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port ?? 5683, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.socket = socket;
    this.server = coap.createServer();
    keyBlock1ByPeer(this.server, this.options.maxPayload ?? DEFAULT_MAX_PAYLOAD);
    this.server.on('request', (req: coap.IncomingMessage, res: coap.OutgoingMessage) => this.onRequest(req, res));
    this.server.listen(socket);
    this.agent = new coap.Agent({ socket });
    this.startSweep();
    const a = socket.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  private startSweep(): void {
    this.sweep = setInterval(() => this.expire(), 1000);
    this.sweep.unref();
  }

  registration(endpoint: string): Registration | undefined {
    const id = this.byEndpoint.get(endpoint);
    return id ? this.byId.get(id) : undefined;
  }

  registrations(): Registration[] {
    return [...this.byId.values()];
  }

  /** Whether a queue-mode device listens now; other devices always do. */
  awake(endpoint: string): boolean {
    const reg = this.registration(endpoint);
    if (!reg) return false;
    return !reg.queueMode || (this.awakeUntil.get(endpoint) ?? 0) > this.now();
  }

  /** The device spoke: it listens for a while (queue mode), and what was held for it goes now. */
  private heard(reg: Registration): void {
    this.byAddress.set(peerKey(reg.identity !== undefined, reg.address, reg.port), reg.endpoint);
    if (!reg.queueMode) return;
    const wasAwake = this.awake(reg.endpoint);
    this.awakeUntil.set(reg.endpoint, this.now() + (this.options.awakeMs ?? 93_000));
    if (!wasAwake) this.emit('awake', reg);
    const held = this.held.get(reg.endpoint);
    if (!held) return;
    this.held.delete(reg.endpoint);
    for (const start of held) start();
  }

  private fellAsleep(reg: Registration): void {
    if (this.awakeUntil.delete(reg.endpoint)) this.emit('asleep', reg);
  }

  private onRequest(req: coap.IncomingMessage, res: coap.OutgoingMessage, secure = false): void {
    const url = new URL(req.url, 'coap://x');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const q = url.searchParams;
    const rinfo = req.rsinfo;
    const reply = (code: string, message?: string): void => {
      res.code = code;
      res.end(message ?? '');
    };
    // over DTLS the association's identity decides what the peer may do; over NoSec there is none
    const identity = secure ? this.options.secure!.identity(rinfo.address, rinfo.port) : undefined;
    if (secure && identity === undefined) return reply('4.03', 'no DTLS identity');
    const from = this.byAddress.get(peerKey(secure, rinfo.address, rinfo.port));
    const found = from ? this.registration(from) : undefined;
    const sender = found?.identity === identity ? found : undefined;
    if (sender && sender.address === rinfo.address && sender.port === rinfo.port) this.heard(sender);
    if (parts[0] === 'dp' && parts.length === 1 && req.method === 'POST') {
      // LwM2M 1.1 Send (§6.4.1): only from a registered device, at the address it registered from
      if (!sender) return reply('4.03', 'Send is for registered devices');
      const cf = formatOf(req, undefined).format;
      if (cf === undefined) return reply('4.00', 'Content-Format is required');
      reply('2.04');
      this.emit('send', sender, { code: '2.04', format: cf, payload: new Uint8Array(req.payload) } satisfies CoapAnswer);
      return;
    }
    if (parts[0] !== 'rd') return reply('4.04', 'only /rd (registration interface) and /dp (Send) here');
    if (req.method === 'POST' && parts.length === 1) {
      const ep = q.get('ep');
      if (!ep) return reply('4.00', 'ep (endpoint name) is required');
      const refused = this.refuse(ep, identity, rinfo);
      if (refused) return reply('4.03', refused);
      let links: Link[];
      try {
        links = parseLinks(req.payload.toString('utf8'));
      } catch (err) {
        return reply('4.00', (err as Error).message);
      }
      const old = this.registration(ep);
      if (old) this.drop(old); // a device registering again replaces its registration, same identity
      const id = `r${++this.counter}`;
      const version = q.get('lwm2m') ?? '1.0';
      const binding = q.get('b') ?? 'U';
      const reg: Registration = {
        id,
        endpoint: ep,
        address: rinfo.address,
        port: rinfo.port,
        lifetimeS: Number(q.get('lt') ?? 86400),
        binding,
        version,
        links,
        formats: { announced: announcedFormats(links), version, refused: new Set() },
        registeredAt: this.now(),
        updatedAt: this.now(),
        // LwM2M 1.1 §6.2.1: Q is a parameter of its own; 1.0 wrote it into the binding (UQ, SQ, UQS)
        queueMode: q.has('Q') || binding.includes('Q'),
        blockSize: blockBytes(req, this.options.blockSize ?? DEFAULT_BLOCK),
        ...(identity !== undefined ? { identity } : {}),
      };
      this.byId.set(id, reg);
      this.byEndpoint.set(ep, id);
      res.setOption('Location-Path', [Buffer.from('rd'), Buffer.from(id)]);
      reply('2.01');
      this.emit('registered', reg, old !== undefined);
      this.heard(reg);
      return;
    }
    const reg = parts[1] ? this.byId.get(parts[1]) : undefined;
    if (!reg || parts.length !== 2) return reply('4.04', 'no such registration');
    // an Update or De-register comes over the same security, from the same identity, as the Register
    if (reg.identity !== identity) return reply('4.03', 'this registration belongs to another identity');
    if (req.method === 'POST') {
      const moved = reg.address !== rinfo.address || reg.port !== rinfo.port;
      let links = reg.links;
      if (req.payload.length > 0) {
        try {
          links = parseLinks(req.payload.toString('utf8'));
        } catch (err) {
          return reply('4.00', (err as Error).message);
        }
      }
      // new links may announce other formats; what it refused still holds
      const formats = links === reg.links ? reg.formats : { ...reg.formats, announced: announcedFormats(links) };
      const binding = q.get('b') ?? reg.binding;
      const updated: Registration = {
        ...reg,
        links,
        formats,
        address: rinfo.address,
        port: rinfo.port,
        updatedAt: this.now(),
        ...(q.get('lt') ? { lifetimeS: Number(q.get('lt')) } : {}),
        binding,
        ...(q.has('b') || q.has('Q') ? { queueMode: q.has('Q') || binding.includes('Q') } : {}),
      };
      this.byId.set(reg.id, updated);
      reply('2.04');
      this.emit('updated', updated, moved);
      this.heard(updated);
      return;
    }
    if (req.method === 'DELETE') {
      this.drop(reg);
      reply('2.02');
      this.emit('deregistered', reg);
      return;
    }
    reply('4.05', 'POST or DELETE');
  }

  /** Why this peer may not register as `ep` (logged as 'refused'), or undefined when it may. */
  private refuse(ep: string, identity: string | undefined, rinfo: { address: string; port: number }): string | undefined {
    let reason: string | undefined;
    if (identity !== undefined) {
      const allowed = this.options.secure!.endpointFor(identity);
      if (allowed !== ep)
        reason = allowed === undefined ? 'this identity may not register' : 'this identity registers under another endpoint name';
    } else if (this.registration(ep)?.identity !== undefined) reason = 'this endpoint registered over DTLS';
    if (reason) this.emit('refused', { endpoint: ep, identity, address: rinfo.address, port: rinfo.port, reason });
    return reason;
  }

  private drop(reg: Registration): void {
    this.byId.delete(reg.id);
    if (this.byEndpoint.get(reg.endpoint) === reg.id) this.byEndpoint.delete(reg.endpoint);
    this.byAddress.delete(peerKey(reg.identity !== undefined, reg.address, reg.port));
    this.awakeUntil.delete(reg.endpoint);
  }

  private expire(): void {
    const now = this.now();
    for (const reg of [...this.byId.values()]) {
      if (now - reg.updatedAt > reg.lifetimeS * 1000) {
        this.drop(reg);
        this.emit('expired', reg);
      } else if (reg.queueMode && (this.awakeUntil.get(reg.endpoint) ?? Infinity) <= now) this.fellAsleep(reg);
    }
  }

  /**
   * Sends a request to a registered device; rejects with a CoapExchangeError when there is no
   * answer. A queue-mode device that sleeps gets it when it next speaks, within the same timeout.
   */
  request(
    endpoint: string,
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: Path,
    body?: { format: number; payload: Uint8Array },
    accept?: number,
    timeoutMs?: number,
  ): Promise<CoapAnswer> {
    return this.exchange(endpoint, method, path, {
      ...(body ? { body } : {}),
      ...(accept !== undefined ? { accept } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  }

  /** Write-Attributes (LwM2M 1.1 §5.4.4): PUT with the attributes as the query, no payload. */
  writeAttributes(endpoint: string, path: Path, attributes: Readonly<Record<string, number>>, timeoutMs?: number): Promise<CoapAnswer> {
    const query = Object.entries(attributes)
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    return this.exchange(endpoint, 'PUT', path, { query, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }

  /**
   * Observe (RFC 7641): resolves with the first answer and a cancel (a GET with Observe 1 to the
   * device); each later notification goes to onNotify. A refused Observe (not 2.05) has nothing to cancel.
   */
  async observe(
    endpoint: string,
    path: Path,
    onNotify: (a: CoapAnswer) => void,
    accept?: number,
    timeoutMs?: number,
  ): Promise<{ first: CoapAnswer; cancel(): void }> {
    let stream: ObserveStream | undefined;
    const first = await this.exchange(endpoint, 'GET', path, {
      ...(accept !== undefined ? { accept } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      observe: (res) => (stream = res),
    });
    const s = stream;
    if (!s || !first.code.startsWith('2.')) {
      s?.close(false);
      return { first, cancel: () => {} };
    }
    let skipped = false;
    s.on('data', (payload: Buffer) => {
      if (!skipped) return void (skipped = true); // node-coap pushes the first answer as data too
      onNotify({ code: s.code, ...formatOf(s, accept), payload: new Uint8Array(payload) });
    });
    return { first, cancel: () => s.close(true) };
  }

  private exchange(
    endpoint: string,
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: Path,
    x: {
      body?: { format: number; payload: Uint8Array };
      accept?: number;
      timeoutMs?: number;
      query?: string;
      observe?: (stream: ObserveStream) => void;
    },
  ): Promise<CoapAnswer> {
    const { body, accept, timeoutMs } = x;
    const reg = this.registration(endpoint);
    if (!reg) return Promise.reject(new CoapExchangeError(CoapExchangeErrorCode.NotRegistered, endpoint, `${endpoint} is not registered`));
    const max = this.options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (body && body.payload.length > max) {
      return Promise.reject(
        new CoapExchangeError(
          CoapExchangeErrorCode.TooLarge,
          endpoint,
          `${body.payload.length} bytes is more than the ${max} a request may carry`,
        ),
      );
    }
    const what = `${method} ${pathText(path)}`;
    return new Promise((resolve, reject) => {
      let req: coap.OutgoingMessage | undefined;
      const agent = reg.identity !== undefined ? this.secureAgent! : this.agent!;
      const held = (): Set<() => void> | undefined => this.held.get(endpoint);
      const settle = (): void => {
        clearTimeout(timer);
        this.waiting.delete(fail);
        held()?.delete(start);
      };
      const fail = (err: Error, abort = false): void => {
        settle();
        // the exchange is over for us: stop the agent retransmitting it to a device that is gone
        if (abort && req) abortQuietly(agent, req);
        reject(err);
      };
      const expired = (): void => {
        const current = this.registration(endpoint);
        // a queue-mode device that does not answer went back to sleep
        if (req && current?.queueMode) this.fellAsleep(current);
        fail(
          new CoapExchangeError(
            CoapExchangeErrorCode.Timeout,
            endpoint,
            `${endpoint} did not answer ${what}${req ? '' : ' (asleep, it did not wake in time)'}`,
          ),
          true,
        );
      };
      const exchangeMs = this.options.timeoutMs ?? 30_000;
      // deadline covers the wait of a held request; once sent, the exchange has the server's timeout at most
      const deadline = this.now() + (timeoutMs ?? exchangeMs);
      let timer = setTimeout(expired, timeoutMs ?? exchangeMs);
      this.waiting.add(fail);
      const start = (): void => {
        held()?.delete(start);
        const now = this.registration(endpoint);
        if (!now) return fail(new CoapExchangeError(CoapExchangeErrorCode.NotRegistered, endpoint, `${endpoint} is not registered`));
        const r = coap.request({
          host: now.address,
          port: now.port,
          method,
          pathname: pathText(path),
          agent,
          ...(x.query ? { query: x.query } : {}),
          ...(x.observe ? { observe: true } : {}),
        });
        req = r;
        clearTimeout(timer);
        timer = setTimeout(expired, Math.max(1, Math.min(exchangeMs, deadline - this.now())));
        if (body) r.setOption('Content-Format', body.format);
        if (accept !== undefined) r.setOption('Accept', accept);
        // RFC 7959: node-coap segments the payload when Block1 carries the size exponent
        if (body && body.payload.length > now.blockSize) r.setOption('Block1', Buffer.of(Math.log2(now.blockSize) - 4));
        r.on('response', (res: coap.IncomingMessage) => {
          settle();
          if (x.observe && 'close' in res) x.observe(res as ObserveStream);
          resolve({ code: res.code, ...formatOf(res, accept), payload: new Uint8Array(res.payload) });
        });
        r.on('timeout', () =>
          fail(
            new CoapExchangeError(
              CoapExchangeErrorCode.Timeout,
              endpoint,
              `${endpoint} did not answer ${what} (retransmissions exhausted)`,
            ),
          ),
        );
        r.on('error', (err: Error) =>
          fail(new CoapExchangeError(CoapExchangeErrorCode.SendFailed, endpoint, `${what} to ${endpoint} failed: ${err.message}`)),
        );
        r.end(body ? Buffer.from(body.payload) : undefined);
      };
      if (this.awake(endpoint)) return start();
      const queue = held() ?? new Set<() => void>();
      queue.add(start);
      this.held.set(endpoint, queue);
    });
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    this.agent?.close();
    this.secureAgent?.close();
    this.secureServer?.close();
    for (const fail of [...this.waiting]) fail(new CoapExchangeError(CoapExchangeErrorCode.Stopped, '', 'the LwM2M server stopped')); // the agent's close aborted them
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    try {
      this.socket?.close();
    } catch {
      // already closed by the server
    }
  }
}

/** plain and secured peers at one address:port are different peers */
function peerKey(secure: boolean, address: string, port: number): string {
  return `${secure ? 's:' : ''}${address}:${port}`;
}

type ObserveStream = coap.IncomingMessage & { close(eagerDeregister?: boolean): void };

/** The answer's Content-Format as a number. */
function formatOf(res: coap.IncomingMessage, asked: number | undefined): { format?: number } {
  const cf = res.headers['Content-Format'];
  const named = typeof cf === 'number' ? cf : typeof cf === 'string' ? formatNumber(cf) : undefined;
  // node-coap's server leaves Content-Format off the later blocks of a Block2 answer: the last one is what we get
  const format = named ?? ((res._packet.options ?? []).some((o) => o.name === 'Block2') ? asked : undefined);
  return format !== undefined ? { format } : {};
}

/** node-coap names some formats; LwM2M ones arrive as numbers. */
export function formatNumber(name: string): number | undefined {
  const known: Record<string, number> = {
    'text/plain': ContentFormat.Text,
    'application/link-format': ContentFormat.LinkFormat,
    'application/octet-stream': ContentFormat.Opaque,
    'application/senml+json': ContentFormat.SenmlJson,
    'application/senml+cbor': ContentFormat.SenmlCbor,
    'application/vnd.oma.lwm2m+tlv': ContentFormat.Tlv,
  };
  return known[name] ?? (Number.isInteger(Number(name)) ? Number(name) : undefined);
}

/** The block size the device chose for its own Register (Block1 SZX), else ours. */
function blockBytes(req: coap.IncomingMessage, fallback: number): number {
  const opt = (req._packet.options ?? []).find((o) => o.name === 'Block1');
  if (!opt || !(opt.value instanceof Buffer) || opt.value.length === 0) return fallback;
  return Math.min(fallback, 2 ** ((opt.value[opt.value.length - 1]! & 0x07) + 4));
}

/** node-coap's abort, tolerant of an exchange the agent already finished. */
function abortQuietly(agent: coap.Agent, req: coap.OutgoingMessage): void {
  try {
    (agent as unknown as { abort(r: coap.OutgoingMessage): void }).abort(req);
  } catch {
    // the agent had let it go already
  }
}

type CacheKeyed = {
  _toCacheKey(request: unknown, packet: { token?: Buffer; options?: { name: string; value: Buffer }[] }): string | null;
  _clientIdentifier(request: unknown): string;
};

/**
 * node-coap reassembles Block1 requests per token, but RFC 7959 §2.3 lets a client use a new token
 * for every block (libcoap's coap-client does): key them by peer and Uri-Path instead.
 */
export function keyBlock1ByPeer(server: coap.Server, maxPayload: number): void {
  const s = server as unknown as CacheKeyed;
  const byToken = s._toCacheKey.bind(s);
  s._toCacheKey = (request, packet) => {
    const options = packet.options ?? [];
    const block1 = options.find((o) => o.name === 'Block1');
    if (!block1) return byToken(request, packet);
    // node-coap allocates offset + length for the whole body on the last block: one unauthenticated
    // packet claiming block 2^20-1 would cost a gigabyte; refused (answered 5.00 with this text)
    const v = block1.value;
    const num =
      v.length === 0
        ? 0
        : v.length === 1
          ? v[0]! >> 4
          : v.length === 2
            ? ((v[0]! << 8) | v[1]!) >> 4
            : ((v[0]! << 16) | (v[1]! << 8) | v[2]!) >> 4;
    const size = v.length === 0 ? 16 : 2 ** ((v[v.length - 1]! & 0x07) + 4);
    if (num * size >= maxPayload) throw new Error(`Request Entity Too Large: more than ${maxPayload} bytes`);
    const path = options
      .filter((o) => o.name === 'Uri-Path')
      .map((o) => o.value.toString())
      .join('/');
    return `block1/${s._clientIdentifier(request)}/${path}`;
  };
}
