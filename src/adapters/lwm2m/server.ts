// The gateway as an LwM2M server on UDP (CoAP, node-coap): the registration interface (Register,
// Update, De-register, lifetimes) and requests to registered devices (Read, Write, Execute,
// Create, Delete, Discover). One UDP socket serves both directions.
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';

import coap from 'coap';

import { announcedFormats, type DeviceFormats } from './formats.ts';
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
}

/**
 * Events: 'registered' (reg), 'updated' (reg, addressChanged), 'deregistered' (reg),
 * 'expired' (reg) — the last when a lifetime ran out without an Update.
 */
export class Lwm2mServer extends EventEmitter {
  private readonly options: Lwm2mServerOptions;
  private readonly byId = new Map<string, Registration>();
  private readonly byEndpoint = new Map<string, string>();
  private socket: Socket | undefined;
  private server: coap.Server | undefined;
  private agent: coap.Agent | undefined;
  /** requests waiting for an answer: closing ends them (the agent's retransmissions would otherwise send on a closed socket) */
  private readonly waiting = new Set<(err: Error) => void>();
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
    // a fanout answers in bursts: a larger receive buffer keeps the kernel from dropping them
    // (capped by net.core.rmem_max; CoAP would retransmit after 2–3 s, which is what it costs)
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port ?? 5683, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.socket = socket;
    this.server = coap.createServer();
    this.server.on('request', (req: coap.IncomingMessage, res: coap.OutgoingMessage) => this.onRequest(req, res));
    this.server.listen(socket);
    this.agent = new coap.Agent({ socket });
    this.sweep = setInterval(() => this.expire(), 1000);
    this.sweep.unref();
    const a = socket.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  registration(endpoint: string): Registration | undefined {
    const id = this.byEndpoint.get(endpoint);
    return id ? this.byId.get(id) : undefined;
  }

  registrations(): Registration[] {
    return [...this.byId.values()];
  }

  private onRequest(req: coap.IncomingMessage, res: coap.OutgoingMessage): void {
    const url = new URL(req.url, 'coap://x');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const q = url.searchParams;
    const rinfo = req.rsinfo;
    const reply = (code: string, message?: string): void => {
      res.code = code;
      res.end(message ?? '');
    };
    if (parts[0] !== 'rd') return reply('4.04', 'only /rd (registration interface) here');
    if (req.method === 'POST' && parts.length === 1) {
      const ep = q.get('ep');
      if (!ep) return reply('4.00', 'ep (endpoint name) is required');
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
      const reg: Registration = {
        id, endpoint: ep, address: rinfo.address, port: rinfo.port, lifetimeS: Number(q.get('lt') ?? 86400), binding: q.get('b') ?? 'U',
        version, links, formats: { announced: announcedFormats(links), version, refused: new Set() }, registeredAt: this.now(), updatedAt: this.now(),
      };
      this.byId.set(id, reg);
      this.byEndpoint.set(ep, id);
      res.setOption('Location-Path', [Buffer.from('rd'), Buffer.from(id)]);
      reply('2.01');
      this.emit('registered', reg, old !== undefined);
      return;
    }
    const reg = parts[1] ? this.byId.get(parts[1]) : undefined;
    if (!reg || parts.length !== 2) return reply('4.04', 'no such registration');
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
      const updated: Registration = {
        ...reg, links, formats, address: rinfo.address, port: rinfo.port, updatedAt: this.now(),
        ...(q.get('lt') ? { lifetimeS: Number(q.get('lt')) } : {}), ...(q.get('b') ? { binding: q.get('b')! } : {}),
      };
      this.byId.set(reg.id, updated);
      reply('2.04');
      this.emit('updated', updated, moved);
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

  private drop(reg: Registration): void {
    this.byId.delete(reg.id);
    if (this.byEndpoint.get(reg.endpoint) === reg.id) this.byEndpoint.delete(reg.endpoint);
  }

  private expire(): void {
    const now = this.now();
    for (const reg of [...this.byId.values()]) {
      if (now - reg.updatedAt > reg.lifetimeS * 1000) {
        this.drop(reg);
        this.emit('expired', reg);
      }
    }
  }

  /** Sends a request to a registered device; rejects when it does not answer. */
  request(endpoint: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: Path, body?: { format: number; payload: Uint8Array }, accept?: number): Promise<CoapAnswer> {
    const reg = this.registration(endpoint);
    if (!reg) return Promise.reject(new Error(`${endpoint} is not registered`));
    return new Promise((resolve, reject) => {
      const req = coap.request({ host: reg.address, port: reg.port, method, pathname: pathText(path), agent: this.agent! });
      if (body) req.setOption('Content-Format', body.format);
      if (accept !== undefined) req.setOption('Accept', accept);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        this.waiting.delete(fail);
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`${endpoint} did not answer ${method} ${pathText(path)}`)), this.options.timeoutMs ?? 30_000);
      this.waiting.add(fail);
      req.on('response', (res: coap.IncomingMessage) => {
        clearTimeout(timer);
        this.waiting.delete(fail);
        const cf = res.headers['Content-Format'];
        const format = typeof cf === 'number' ? cf : typeof cf === 'string' ? formatNumber(cf) : undefined;
        resolve({ code: res.code, ...(format !== undefined ? { format } : {}), payload: new Uint8Array(res.payload) });
      });
      req.on('error', fail);
      req.end(body ? Buffer.from(body.payload) : undefined);
    });
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    this.agent?.close();
    for (const fail of [...this.waiting]) fail(new Error('the LwM2M server stopped'));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    try {
      this.socket?.close();
    } catch {
      // already closed by the server
    }
  }
}

/** node-coap names some formats; LwM2M ones arrive as numbers. */
export function formatNumber(name: string): number | undefined {
  const known: Record<string, number> = { 'text/plain': ContentFormat.Text, 'application/link-format': ContentFormat.LinkFormat, 'application/octet-stream': ContentFormat.Opaque, 'application/senml+json': ContentFormat.SenmlJson, 'application/senml+cbor': ContentFormat.SenmlCbor, 'application/vnd.oma.lwm2m+tlv': ContentFormat.Tlv };
  return known[name] ?? (Number.isInteger(Number(name)) ? Number(name) : undefined);
}
