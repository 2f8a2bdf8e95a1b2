// A simulated LwM2M 1.0–1.2 client: objects 0 (Security), 1 (Server), 3 (Device), 5 (Firmware
// Update) and 3303 (Temperature); registers with the gateway, updates within its lifetime,
// answers Read/Write/Execute/Create/Delete/Discover in text, opaque and the value formats it was
// given (TLV, SenML JSON, SenML CBOR), announces them at Register, and refuses the others.
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { type AddressInfo, isIP } from 'node:net';

import coap from 'coap';

import { formatLinks } from '../adapters/lwm2m/link.ts';
import { ContentFormat, Lwm2mFormatError, type Path, parsePath, type ResourceValue, type Value } from '../adapters/lwm2m/model.ts';
import { decodePayload, encodePayload } from '../adapters/lwm2m/codec.ts';
import { objectDef, resourceDef } from '../adapters/lwm2m/objects.ts';
import { formatNumber } from '../adapters/lwm2m/server.ts';
import { SecurityMode } from '../adapters/lwm2m/bootstrap.ts';
import { connectDtls, connectionSocket, type DtlsConnection } from '../transport/dtls/index.ts';
import { decodeTlv, encodeTlv } from '../adapters/lwm2m/tlv.ts';
import { type FirmwareDelivery, type FirmwareFailure, SimFirmware, firmwareResources } from './lwm2m-firmware.ts';

type Instance = Map<number, Value | Map<number, Value>>;

export interface Lwm2mDeviceOptions {
  readonly endpoint: string;
  /** coap://host:port of the gateway's LwM2M server, or coaps://host:port (DTLS, with `psk`); unset: the device starts from `bootstrap` only */
  readonly server?: string;
  /** the PSK identity and key of the `server` account, for coaps:// */
  readonly psk?: { readonly identity: string; readonly key: Buffer };
  /** its bootstrap account (a factory-fresh device): the bootstrap server's URI and, for coaps://, its PSK (hex) */
  readonly bootstrap?: { readonly uri: string; readonly identity?: string; readonly key?: string };
  /** how long it waits for Bootstrap-Finish (default 30 s) */
  readonly bootstrapTimeoutMs?: number;
  readonly lifetimeS?: number;
  readonly manufacturer?: string;
  readonly model?: string;
  readonly serial?: string;
  readonly firmware?: string;
  /** where the device's own CoAP endpoint listens (port 0: any) */
  readonly host?: string;
  readonly port?: number;
  /** value formats it speaks besides text and opaque (default: TLV for 1.0, all three for 1.1+) */
  readonly formats?: Lwm2mFormats;
  /** LwM2M version it registers with (default 1.1) */
  readonly version?: Lwm2mVersion;
  /** false: registers without ct, as many clients do (default true) */
  readonly announce?: boolean;
  /** largest CoAP block it sends or takes (RFC 7959): 16…1024, a power of two; default 1024 */
  readonly blockSize?: number;
  /** LwM2M queue mode: it sleeps (hears nothing), wakes after sleepMs (a [min, max] range: at random), sends an Update and listens awakeMs */
  readonly queue?: { readonly awakeMs: number; readonly sleepMs: readonly [number, number] };
  /** how it takes a firmware package (/5/0/9): fetched from the Package URI, written to Package, or both (default) */
  readonly firmwareDelivery?: FirmwareDelivery;
  /** an Update Result its firmware updates end with, on purpose (tests) */
  readonly firmwareFailure?: FirmwareFailure;
}

export type Lwm2mFormats = 'json' | 'tlv' | 'cbor' | 'all';
export type Lwm2mVersion = '1.0' | '1.1' | '1.2';
export const LWM2M_FORMATS: readonly Lwm2mFormats[] = ['json', 'tlv', 'cbor', 'all'];
export const LWM2M_VERSIONS: readonly Lwm2mVersion[] = ['1.0', '1.1', '1.2'];

const FORMATS_OF: Record<Lwm2mFormats, readonly number[]> = {
  json: [ContentFormat.SenmlJson],
  tlv: [ContentFormat.Tlv],
  cbor: [ContentFormat.SenmlCbor],
  all: [ContentFormat.SenmlCbor, ContentFormat.SenmlJson, ContentFormat.Tlv],
};

const asFormat = (h: unknown): number | undefined => (typeof h === 'number' ? h : typeof h === 'string' ? formatNumber(h) : undefined);

export class Lwm2mDevice {
  readonly options: Lwm2mDeviceOptions;
  /** objectId → instanceId → resourceId → value (multi-instance resources: a map) */
  readonly objects = new Map<number, Map<number, Instance>>();
  reboots = 0;
  /** requests it answered 4.06 or 4.15 (a format it does not speak) */
  refusals = 0;
  /** value formats it speaks besides text/plain and opaque, preferred first */
  readonly formats: readonly number[];
  readonly version: Lwm2mVersion;
  private socket: Socket | undefined;
  /** coaps: the UDP socket under the DTLS association (this.socket is its clear side) */
  private udp: Socket | undefined;
  /** coaps: the association with the server */
  dtls: DtlsConnection | undefined;
  /** the coaps:// URI this.socket is an association with; '' for plain CoAP (one socket reaches any peer) */
  private attached: string | undefined;
  private server: coap.Server | undefined;
  private agent: coap.Agent | undefined;
  /** registration requests in flight: stopping ends them (see Lwm2mServer.close) */
  private readonly waiting = new Set<(err: Error) => void>();
  private location: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  /** while asleep: the socket's message listeners, put back on waking */
  private sleeping: ((...args: unknown[]) => void)[] | undefined;
  /** the largest Block1 block a write to it came in (bytes), for tests of the block size */
  largestBlockIn = 0;
  wakes = 0;
  /** Observe (RFC 7641): observed path → how to notify it */
  private readonly observers = new Map<string, { path: Path; notify(): void; stop(): void }>();
  /** 'observed' (path) when an observation starts, 'unobserved' (path) when it ends: tests wait on them */
  readonly events = new EventEmitter();
  /** the attributes last written to each path (Write-Attributes) */
  readonly attributes = new Map<string, Record<string, string>>();
  /** object 5: what it downloaded and installed */
  readonly firmware: SimFirmware;

  constructor(options: Lwm2mDeviceOptions) {
    if (!options.server && !options.bootstrap) throw new Error('an LwM2M device needs a server URI or a bootstrap server URI');
    this.options = options;
    this.version = options.version ?? '1.1';
    this.formats = FORMATS_OF[options.formats ?? (this.version === '1.0' ? 'tlv' : 'all')];
    const lifetime = options.lifetimeS ?? 300;
    const set = (o: number, i: number, entries: [number, Value | Map<number, Value>][]): void => {
      if (!this.objects.has(o)) this.objects.set(o, new Map());
      this.objects.get(o)!.set(i, new Map(entries));
    };
    this.objects.set(1, new Map());
    // the factory account: a server, or only a bootstrap server (its Security instance, Bootstrap-Server true)
    if (options.server) {
      set(0, 0, [
        [0, options.server],
        [1, false],
        [2, options.psk ? SecurityMode.Psk : SecurityMode.NoSec],
        ...(options.psk
          ? ([
              [3, new TextEncoder().encode(options.psk.identity)],
              [5, new Uint8Array(options.psk.key)],
            ] as [number, Value][])
          : []),
        [10, 1],
      ]);
      set(1, 0, [
        [0, 1],
        [1, lifetime],
        [6, false],
        [7, 'U'],
      ]);
    }
    if (options.bootstrap) {
      const b = options.bootstrap;
      set(0, options.server ? 1 : 0, [
        [0, b.uri],
        [1, true],
        [2, b.key ? SecurityMode.Psk : SecurityMode.NoSec],
        [3, new TextEncoder().encode(b.identity ?? '')],
        [5, new Uint8Array(Buffer.from(b.key ?? '', 'hex'))],
      ]);
    }
    set(3, 0, [
      [0, options.manufacturer ?? 'gwmo'],
      [1, options.model ?? 'lwm2m-sim'],
      [2, options.serial ?? options.endpoint],
      [3, options.firmware ?? '1.0.0'],
      [
        6,
        new Map([
          [0, 1],
          [1, 5],
        ]),
      ],
      [9, 87],
      [13, Math.floor(Date.now() / 1000)],
      [16, 'U'],
      [17, 'sensor'],
      [18, 'rev-A'],
      [19, '1.0'],
    ]);
    set(5, 0, firmwareResources(options.firmwareDelivery ?? 'both'));
    this.firmware = new SimFirmware((o, r, v) => this.set(o, 0, r, v), options.firmwareDelivery ?? 'both', options.firmwareFailure);
    set(3303, 0, [
      [5700, 21.5],
      [5701, 'Cel'],
      [5601, 18.0],
      [5602, 25.0],
      [5750, 'room'],
    ]);
  }

  async start(): Promise<void> {
    if (!this.account()) await this.bootstrap();
    else await this.attach(this.account()!);
    if (!this.account()) await this.bootstrap();
    await this.register();
    this.sleepSoon();
    const lifetime = this.account()!.lifetimeS;
    this.timer = setInterval(() => void this.update().catch(() => undefined), Math.max(1000, (lifetime * 1000) / 2));
    this.timer.unref();
  }

  /**
   * Its transport to one account's server: plain CoAP on a UDP socket, or for coaps:// a DTLS
   * association with that server (its PSK) and the CoAP server and agent over it. Bootstrap and the
   * LwM2M server are two peers, so a device bootstrapped over DTLS attaches twice.
   */
  private async attach(account: { uri: string; securityMode: number; identity: string; key: Uint8Array }): Promise<void> {
    const u = new URL(account.uri);
    const target = u.protocol === 'coaps:' ? account.uri : '';
    if (this.attached === target) return;
    await this.detach();
    if (target && (account.securityMode !== SecurityMode.Psk || account.key.length === 0))
      throw new Error(`${this.options.endpoint}: ${account.uri} needs a PSK identity and key`);
    const udp = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    let socket = udp;
    if (target) {
      this.udp = udp;
      try {
        const psk = { identity: account.identity, key: Buffer.from(account.key) };
        this.dtls = await connectDtls({ host: u.hostname, port: Number(u.port || 5684), psk, socket: udp });
      } catch (err) {
        udp.close();
        this.udp = undefined;
        throw err;
      }
      socket = connectionSocket(this.dtls, udp.address());
    }
    this.socket = socket;
    this.server = coap.createServer();
    this.server.on('request', (req: coap.IncomingMessage, res: coap.OutgoingMessage) => this.handle(req, res));
    this.server.listen(socket);
    this.agent = new coap.Agent({ socket });
    this.attached = target;
  }

  private async detach(): Promise<void> {
    this.agent?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    try {
      this.socket?.close();
      this.udp?.close();
    } catch {
      // closed with the server
    }
    this.server = this.agent = this.socket = this.udp = this.dtls = this.attached = undefined;
  }

  private get blockSize(): number {
    return this.options.blockSize ?? 1024;
  }

  /** Queue mode: stop hearing (a sleeping radio), wake later with an Update. */
  private sleepSoon(): void {
    const q = this.options.queue;
    if (!q || !this.socket) return;
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.sleepTimer = setTimeout(() => {
      const socket = this.socket;
      if (!socket || this.sleeping) return;
      this.sleeping = socket.listeners('message') as ((...args: unknown[]) => void)[];
      socket.removeAllListeners('message');
      const [min, max] = q.sleepMs;
      this.sleepTimer = setTimeout(() => void this.wake().catch(() => undefined), min + Math.random() * (max - min));
    }, q.awakeMs);
  }

  async wake(): Promise<void> {
    if (this.sleeping && this.socket) for (const l of this.sleeping) this.socket.on('message', l);
    this.sleeping = undefined;
    this.wakes++;
    this.sleepSoon();
    await this.update();
  }

  get asleep(): boolean {
    return this.sleeping !== undefined;
  }

  get address(): string {
    const a = this.socket?.address() as AddressInfo | undefined;
    return a ? `${a.address}:${a.port}` : '';
  }

  private links(): string {
    const links = [...this.objects].flatMap(([o, insts]) =>
      o === 0 ? [] : [...insts.keys()].map((i) => ({ path: { objectId: o, instanceId: i }, attributes: {} })),
    );
    // LwM2M 1.1 §6.2.1: ct on the root link names the formats beyond the mandatory ones (1.0 has no ct)
    const ct =
      this.version === '1.0' || this.options.announce === false
        ? {}
        : { ct: this.formats.length === 1 ? String(this.formats[0]) : `"${this.formats.join(' ')}"` };
    return formatLinks([{ path: { objectId: -1 }, attributes: { rt: '"oma.lwm2m"', ...ct } }, ...links]);
  }

  /**
   * The LwM2M server account it holds (objects 0 and 1): the first Security instance that is not
   * the bootstrap account, with the Server instance of the same Short Server ID.
   */
  account(): { uri: string; securityMode: number; identity: string; key: Uint8Array; lifetimeS: number; binding: string } | undefined {
    for (const sec of this.objects.get(0)?.values() ?? []) {
      if (sec.get(1) === true) continue;
      const ssid = sec.get(10);
      const server = [...(this.objects.get(1)?.values() ?? [])].find((s) => s.get(0) === ssid);
      if (!server) continue;
      const id = sec.get(3);
      return {
        uri: String(sec.get(0)),
        securityMode: Number(sec.get(2) ?? SecurityMode.NoSec),
        identity: id instanceof Uint8Array ? new TextDecoder().decode(id) : '',
        key: keyOf(sec),
        lifetimeS: Number(server.get(1) ?? 300),
        binding: String(server.get(7) ?? 'U'),
      };
    }
    return undefined;
  }

  /** true while the bootstrap server writes its objects (Delete and Write of 0 and 1 are allowed only then) */
  private bootstrapping: { readonly from: URL; finished(code: string): void } | undefined;

  /** Client-initiated bootstrap (LwM2M 1.1 §5.2.7.3): Bootstrap-Request, then the server's writes until Bootstrap-Finish. */
  async bootstrap(): Promise<void> {
    const bs = [...(this.objects.get(0)?.values() ?? [])].find((sec) => sec.get(1) === true);
    if (!bs) throw new Error(`${this.options.endpoint} has no bootstrap account`);
    const uri = String(bs.get(0));
    const id = bs.get(3);
    await this.attach({
      uri,
      securityMode: Number(bs.get(2) ?? SecurityMode.NoSec),
      identity: id instanceof Uint8Array ? new TextDecoder().decode(id) : '',
      key: keyOf(bs),
    });
    const timeoutMs = this.options.bootstrapTimeoutMs ?? 30_000;
    const finished = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.bootstrapping = undefined;
        reject(new Error(`${this.options.endpoint}: no Bootstrap-Finish from ${uri} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.bootstrapping = {
        from: new URL(uri),
        finished: (code) => {
          clearTimeout(timer);
          this.bootstrapping = undefined;
          if (code === '2.04') resolve();
          else reject(new Error(`${this.options.endpoint}: what ${uri} wrote names no usable LwM2M server`));
        },
      };
    });
    finished.catch(() => undefined); // awaited below; a refused request must not leave it unhandled
    const pct = this.version === '1.0' ? '' : `&pct=${this.formats[0]}`;
    const res = await this.send('POST', '/bs', `ep=${encodeURIComponent(this.options.endpoint)}${pct}`, undefined, uri);
    if (res.code !== '2.04') {
      this.bootstrapping?.finished('refused');
      throw new Error(`${this.options.endpoint}: bootstrap refused by ${uri}: ${res.code} ${res.payload.toString('utf8')}`);
    }
    await finished;
    // Bootstrap-Finish's 2.04 went out before `finished` settled: now to the server it was given
    await this.attach(this.account()!);
  }

  private send(method: 'POST' | 'DELETE', pathname: string, query: string, payload?: string, to?: string): Promise<coap.IncomingMessage> {
    const target = to ?? this.account()?.uri;
    if (!target) return Promise.reject(new Error(`${this.options.endpoint} holds no LwM2M server account`));
    const u = new URL(target);
    // never in the clear to a coaps:// server, nor over another server's association
    if ((u.protocol === 'coaps:' ? target : '') !== this.attached)
      return Promise.reject(new Error(`${target}: ${this.options.endpoint} is not attached to it`));
    return new Promise((resolve, reject) => {
      const req = coap.request({ host: u.hostname, port: Number(u.port || 5683), method, pathname, query, agent: this.agent! });
      if (payload !== undefined) req.setOption('Content-Format', 'application/link-format');
      // RFC 7959: node-coap segments the payload when Block1 carries the size exponent
      if (payload !== undefined && Buffer.byteLength(payload) > this.blockSize)
        req.setOption('Block1', Buffer.of(Math.log2(this.blockSize) - 4));
      const fail = (err: Error): void => {
        this.waiting.delete(fail);
        reject(err);
      };
      this.waiting.add(fail);
      req.on('response', (res: coap.IncomingMessage) => {
        this.waiting.delete(fail);
        resolve(res);
      });
      req.on('error', fail);
      req.end(payload !== undefined ? Buffer.from(payload) : undefined);
    });
  }

  /** Changes a value as the device itself would (a sensor reading), notifying its observers. */
  set(objectId: number, instanceId: number, resourceId: number, value: Value): void {
    this.objects.get(objectId)?.get(instanceId)?.set(resourceId, value);
    this.changed({ objectId, instanceId, resourceId });
  }

  get observed(): string[] {
    return [...this.observers.keys()];
  }

  private changed(at: Path): void {
    for (const o of this.observers.values()) {
      const p = o.path;
      const covers =
        p.objectId === at.objectId &&
        (p.instanceId === undefined || p.instanceId === at.instanceId) &&
        (p.resourceId === undefined || p.resourceId === at.resourceId);
      if (covers) o.notify();
    }
  }

  /** LwM2M 1.1 Send (POST /dp): these resources' current values, as SenML JSON. */
  async sendValues(paths: readonly Path[]): Promise<string> {
    const values = paths.flatMap((p) => this.valuesOf(p) ?? []);
    const uri = this.account()?.uri;
    if (!uri) throw new Error(`${this.options.endpoint} holds no LwM2M server account`);
    const u = new URL(uri);
    return new Promise((resolve, reject) => {
      const req = coap.request({ host: u.hostname, port: Number(u.port || 5683), method: 'POST', pathname: '/dp', agent: this.agent! });
      req.setOption('Content-Format', ContentFormat.SenmlJson);
      const fail = (err: Error): void => {
        this.waiting.delete(fail);
        reject(err);
      };
      this.waiting.add(fail);
      req.on('response', (res: coap.IncomingMessage) => {
        this.waiting.delete(fail);
        resolve(res.code);
      });
      req.on('error', fail);
      req.end(Buffer.from(encodePayload(ContentFormat.SenmlJson, values)));
    });
  }

  async register(): Promise<void> {
    const lifetime = this.account()?.lifetimeS ?? 300;
    const res = await this.send(
      'POST',
      '/rd',
      `ep=${encodeURIComponent(this.options.endpoint)}&lt=${lifetime}&b=U&lwm2m=${this.version}${this.options.queue ? '&Q' : ''}`,
      this.links(),
    );
    if (res.code !== '2.01') throw new Error(`registration refused: ${res.code}`);
    const loc = (res._packet.options ?? [])
      .filter((o) => o.name === 'Location-Path')
      .map((o) => o.value.toString())
      .join('/');
    this.location = `/${loc}`;
  }

  async update(): Promise<void> {
    if (!this.location) return this.register();
    const res = await this.send('POST', this.location, '');
    if (res.code === '4.04') await this.register(); // the server forgot us: register again
  }

  async deregister(): Promise<void> {
    if (this.location) await this.send('DELETE', this.location, '');
    this.location = undefined;
  }

  private valuesOf(path: Path): ResourceValue[] | undefined {
    const insts = this.objects.get(path.objectId);
    if (!insts) return undefined;
    const out: ResourceValue[] = [];
    for (const [i, inst] of insts) {
      if (path.instanceId !== undefined && i !== path.instanceId) continue;
      for (const [r, v] of inst) {
        if (path.resourceId !== undefined && r !== path.resourceId) continue;
        if (resourceDef(path.objectId, r)?.operations === 'W') continue; // write-only: not readable
        if (path.objectId === 0 && r >= 3 && r <= 5) continue; // keys: no LwM2M server reads them
        if (v instanceof Map)
          for (const [ri, x] of v)
            out.push({ path: { objectId: path.objectId, instanceId: i, resourceId: r, resourceInstanceId: ri }, value: x });
        else out.push({ path: { objectId: path.objectId, instanceId: i, resourceId: r }, value: v });
      }
    }
    return out;
  }

  private handle(req: coap.IncomingMessage, res: coap.OutgoingMessage): void {
    this.sleepSoon(); // queue mode: a request keeps it awake a while longer
    const block1 = (req._packet.options ?? []).find((o) => o.name === 'Block1');
    if (block1 && block1.value instanceof Buffer && block1.value.length > 0)
      this.largestBlockIn = Math.max(this.largestBlockIn, 2 ** ((block1.value[block1.value.length - 1]! & 0x07) + 4));
    const url = new URL(req.url, 'coap://x');
    const path = parsePath(url.pathname);
    const observe = req.headers['Observe'];
    if (path && observe === 1) this.observers.get(url.pathname)?.stop(); // RFC 7641 §3.6: deregister
    const observing = path !== undefined && req.method === 'GET' && observe === 0;
    const reply = (code: string, format?: number, payload?: Uint8Array): void => {
      res.code = code;
      if (format !== undefined) res.setOption('Content-Format', format);
      if (observing && code === '2.05' && payload) return this.observeFrom(url.pathname, path, format, res, payload);
      if (payload && payload.length > this.blockSize) askBlock2(res, this.blockSize);
      res.end(payload ? Buffer.from(payload) : '');
    };
    if (this.bootstrapping && this.fromBootstrapServer(req.rsinfo) && this.bootstrapRequest(req, url.pathname, path, reply)) return;
    if (!path) return reply('4.00');
    if (req.method === 'PUT' && req.payload.length === 0 && url.search !== '') {
      // Write-Attributes (pmin, pmax, gt, lt, st): kept; notifications here go on every change
      this.attributes.set(url.pathname, Object.fromEntries(url.searchParams));
      return reply(this.objects.get(path.objectId) ? '2.04' : '4.04');
    }
    const def = objectDef(path.objectId);
    const insts = this.objects.get(path.objectId);
    const speaks = (f: number): boolean => f === ContentFormat.Text || f === ContentFormat.Opaque || this.formats.includes(f);
    const format = asFormat(req.headers['Content-Format']) ?? (req.payload.length > 0 ? this.formats[0]! : ContentFormat.Text);
    if (req.payload.length > 0 && !speaks(format)) return (this.refusals++, reply('4.15'));
    try {
      switch (req.method) {
        case 'GET': {
          if (!insts) return reply('4.04');
          const accept = asFormat(req.headers['Accept']);
          if (accept === ContentFormat.LinkFormat) {
            const links = [...insts.keys()]
              .filter((i) => path.instanceId === undefined || i === path.instanceId)
              .flatMap((i) => [
                { path: { objectId: path.objectId, instanceId: i }, attributes: {} },
                ...[...insts.get(i)!.keys()].map((r) => ({
                  path: { objectId: path.objectId, instanceId: i, resourceId: r },
                  attributes: {},
                })),
              ]);
            return reply('2.05', ContentFormat.LinkFormat, new TextEncoder().encode(formatLinks(links)));
          }
          if (path.resourceId !== undefined && resourceDef(path.objectId, path.resourceId)?.operations === 'E') return reply('4.05');
          const values = this.valuesOf(path);
          if (!values || values.length === 0) return reply('4.04');
          if (accept !== undefined && !speaks(accept)) return (this.refusals++, reply('4.06'));
          const one = path.resourceId !== undefined && values.length === 1 && values[0]!.path.resourceInstanceId === undefined;
          const want = accept ?? (one ? ContentFormat.Text : this.formats[0]!);
          // text and opaque carry one value: a resource with several is Not Acceptable in them
          if ((want === ContentFormat.Text || want === ContentFormat.Opaque) && !one) return reply('4.06');
          if (want === ContentFormat.Opaque && !(values[0]!.value instanceof Uint8Array)) return reply('4.06');
          if (want === ContentFormat.Tlv && path.instanceId === undefined) return reply('2.05', want, this.objectTlv(path.objectId));
          return reply('2.05', want, encodePayload(want, values));
        }
        case 'PUT':
        case 'POST': {
          if (!insts) return reply('4.04');
          if (req.method === 'POST' && path.resourceId !== undefined) return this.execute(path, reply);
          if (req.method === 'POST' && path.instanceId === undefined) {
            // Create: the instance id from the TLV, or the next free one
            const values = decodePayload(format, new Uint8Array(req.payload), path);
            const id = values[0]?.path.instanceId ?? Math.max(-1, ...insts.keys()) + 1;
            if (insts.has(id)) return reply('4.00');
            if (!def?.multiple && insts.size > 0) return reply('4.05');
            insts.set(id, new Map(values.map((v) => [v.path.resourceId!, v.value])));
            res.setOption('Location-Path', [Buffer.from(String(path.objectId)), Buffer.from(String(id))]);
            return reply('2.01');
          }
          const inst = insts.get(path.instanceId ?? -1);
          if (!inst) return reply('4.04');
          const values = decodePayload(format, new Uint8Array(req.payload), path);
          for (const v of values) {
            const rd = resourceDef(path.objectId, v.path.resourceId!);
            if (rd && (rd.operations === 'R' || rd.operations === 'E')) return reply('4.05');
          }
          if (req.method === 'PUT' && path.resourceId === undefined)
            for (const [r] of inst) if (resourceDef(path.objectId, r)?.operations === 'RW') inst.delete(r);
          for (const v of values) inst.set(v.path.resourceId!, v.value);
          for (const v of values) this.changed(v.path);
          if (path.objectId === 5) this.firmwareWritten(inst, values);
          if (path.objectId === 1 && values.some((v) => v.path.resourceId === 1)) void this.update().catch(() => undefined);
          return reply('2.04');
        }
        case 'DELETE': {
          if (!insts || path.instanceId === undefined || path.resourceId !== undefined) return reply('4.05');
          if (path.objectId === 3 || path.objectId === 0 || path.objectId === 1) return reply('4.05');
          if (!insts.delete(path.instanceId)) return reply('4.04');
          return reply('2.02');
        }
        default:
          return reply('4.05');
      }
    } catch (err) {
      if (err instanceof Lwm2mFormatError) return reply(String(err.message).includes('not supported') ? '4.15' : '4.00');
      // an answer that failed on the way out (the device stopping) is not answered twice
      if ((res as unknown as { writableEnded?: boolean }).writableEnded) return;
      return reply('5.00');
    }
  }

  /** the bootstrap interface is the bootstrap server's only: requests from elsewhere are ordinary ones (and 4.05 on 0 and 1) */
  private fromBootstrapServer(from: { address: string; port: number }): boolean {
    const bs = this.bootstrapping?.from;
    if (!bs || from.port !== Number(bs.port || 5683)) return false;
    return isIP(bs.hostname) === 0 || from.address === bs.hostname;
  }

  /**
   * What only the bootstrap server may do (LwM2M 1.1 §5.2.7): Delete and Write objects 0 and 1
   * (the bootstrap account stays: touching it is 4.00), Bootstrap-Finish. false: an ordinary request.
   */
  private bootstrapRequest(req: coap.IncomingMessage, pathname: string, path: Path | undefined, reply: (code: string) => void): boolean {
    const security = this.objects.get(0)!;
    const isBootstrapAccount = (i: number | undefined): boolean => i !== undefined && security.get(i)?.get(1) === true;
    if (pathname === '/bs' && req.method === 'POST') {
      // Bootstrap-Finish: 4.06 when what it was given names no server it can register with
      const ok = this.account() !== undefined;
      reply(ok ? '2.04' : '4.06');
      this.bootstrapping?.finished(ok ? '2.04' : '4.06');
      return true;
    }
    const all = pathname === '/' || pathname === '';
    if (req.method === 'DELETE' && (all || (path && (path.objectId === 0 || path.objectId === 1) && path.resourceId === undefined))) {
      if (path && isBootstrapAccount(path.instanceId)) return (reply('4.00'), true);
      for (const o of all ? [0, 1] : [path!.objectId]) {
        const insts = this.objects.get(o)!;
        for (const i of [...insts.keys()])
          if ((path?.instanceId === undefined || path.instanceId === i) && !isBootstrapAccount(o === 0 ? i : undefined)) insts.delete(i);
      }
      return (reply('2.02'), true);
    }
    if (req.method === 'PUT' && path && (path.objectId === 0 || path.objectId === 1) && path.instanceId !== undefined) {
      if (path.objectId === 0 && isBootstrapAccount(path.instanceId)) return (reply('4.00'), true);
      const format = asFormat(req.headers['Content-Format']) ?? ContentFormat.Tlv;
      if (format !== ContentFormat.Text && format !== ContentFormat.Opaque && !this.formats.includes(format))
        return (this.refusals++, reply('4.15'), true);
      try {
        const values = decodePayload(format, new Uint8Array(req.payload), path);
        const inst = this.objects.get(path.objectId)!.get(path.instanceId) ?? new Map();
        for (const v of values) inst.set(v.path.resourceId!, v.value);
        this.objects.get(path.objectId)!.set(path.instanceId, inst);
        return (reply('2.04'), true);
      } catch {
        return (reply('4.00'), true);
      }
    }
    return false;
  }

  private observeFrom(key: string, path: Path, format: number | undefined, res: coap.OutgoingMessage, first: Uint8Array): void {
    const stream = res as unknown as NodeJS.WritableStream & { on(e: string, f: () => void): void };
    const stop = (): void => {
      if (this.observers.get(key)?.stop !== stop) return;
      this.observers.delete(key);
      this.events.emit('unobserved', key);
    };
    const notify = (): void => {
      const values = this.valuesOf(path) ?? [];
      const want = format ?? ContentFormat.SenmlJson;
      stream.write(
        Buffer.from(
          want === ContentFormat.Tlv && path.instanceId === undefined ? this.objectTlv(path.objectId) : encodePayload(want, values),
        ),
      );
    };
    this.observers.set(key, { path, notify, stop });
    stream.on('finish', stop);
    stream.on('error', stop);
    stream.write(Buffer.from(first));
    this.events.emit('observed', key);
  }

  private objectTlv(objectId: number): Uint8Array {
    const insts = this.objects.get(objectId)!;
    return encodeTlv(
      [...insts.keys()].map((i) => ({
        kind: 0 as const,
        id: i,
        children: decodeTlv(encodePayload(ContentFormat.Tlv, this.valuesOf({ objectId, instanceId: i }) ?? [])),
      })),
    );
  }

  private execute(path: Path, reply: (code: string) => void): void {
    const rd = resourceDef(path.objectId, path.resourceId!);
    if (!this.objects.get(path.objectId)?.get(path.instanceId ?? 0)) return reply('4.04');
    if (!rd || rd.operations !== 'E') return reply('4.05');
    if (path.objectId === 3 && path.resourceId === 4) this.reboots++;
    if (path.objectId === 5 && path.resourceId === 2 && !this.firmware.update()) return reply('4.05'); // nothing Downloaded
    return reply('2.04');
  }

  /** Package URI or Package written: the download starts (the package itself is not kept in the object) */
  private firmwareWritten(inst: Instance, values: readonly ResourceValue[]): void {
    for (const v of values) {
      if (v.path.resourceId === 1) this.firmware.uri(String(v.value));
      if (v.path.resourceId === 0) {
        inst.delete(0);
        this.firmware.package(v.value instanceof Uint8Array ? v.value : new TextEncoder().encode(String(v.value)));
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.observers.clear();
    if (this.sleeping && this.socket) for (const l of this.sleeping) this.socket.on('message', l);
    this.sleeping = undefined;
    for (const fail of [...this.waiting]) fail(new Error(`${this.options.endpoint} stopped`));
    await this.detach();
  }
}

/** resource 5 of a Security instance: the PSK (or secret key) it holds */
function keyOf(sec: Instance): Uint8Array {
  const key = sec.get(5);
  return key instanceof Uint8Array ? key : new Uint8Array();
}

/** node-coap's server answers in blocks of the size its request asked for: a first request that did not ask gets ours (RFC 7959 §2.4). */
function askBlock2(res: coap.OutgoingMessage, size: number): void {
  const request = (res as unknown as { _request?: { options?: { name: string; value: Buffer }[] } })._request;
  if (!request) return;
  request.options ??= [];
  if (request.options.some((o) => o.name === 'Block2')) return;
  request.options.push({ name: 'Block2', value: Buffer.of(Math.log2(size) - 4) });
}
