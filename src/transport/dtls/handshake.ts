// Handshake messages (RFC 5246 §7.4 with RFC 6347 §4.2.2's 12-byte header), their fragmentation
// and reassembly (§4.2.3), and the bodies a PSK handshake needs.
import { DtlsDecodeError, Reader, u16, u24, vec } from './wire.ts';

export const HandshakeType = {
  ClientHello: 1,
  ServerHello: 2,
  HelloVerifyRequest: 3,
  Certificate: 11,
  ServerKeyExchange: 12,
  CertificateRequest: 13,
  ServerHelloDone: 14,
  CertificateVerify: 15,
  ClientKeyExchange: 16,
  Finished: 20,
} as const;

export const Ext = { ExtendedMasterSecret: 0x0017, RenegotiationInfo: 0xff01 } as const;
export const HANDSHAKE_HEADER = 12;
/** the longest handshake message we reassemble: PSK messages are small */
export const MAX_MESSAGE = 4096;

export interface Fragment {
  readonly type: number;
  readonly length: number;
  readonly seq: number;
  readonly offset: number;
  readonly body: Buffer;
}

export function parseFragments(data: Buffer): Fragment[] {
  const r = new Reader(data);
  const out: Fragment[] = [];
  while (r.left > 0) {
    const type = r.u8('handshake type');
    const length = r.u24('handshake length');
    const seq = r.u16('message_seq');
    const offset = r.u24('fragment_offset');
    const body = r.vector(3, 'handshake fragment');
    if (offset + body.length > length) throw new DtlsDecodeError('fragment beyond its message', 47);
    if (length > MAX_MESSAGE) throw new DtlsDecodeError(`handshake message of ${length} bytes`, 47);
    out.push({ type, length, seq, offset, body });
  }
  return out;
}

/** The whole message with its header as the transcript hashes it (§4.2.6: as if unfragmented). */
export function message(type: number, seq: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.of(type), u24(body.length), u16(seq), u24(0), u24(body.length), body]);
}

/** A message cut into fragments of at most `max` body bytes. */
export function fragments(type: number, seq: number, body: Buffer, max: number): Buffer[] {
  if (body.length <= max) return [message(type, seq, body)];
  const out: Buffer[] = [];
  for (let off = 0; off < body.length; off += max) {
    const part = body.subarray(off, off + max);
    out.push(Buffer.concat([Buffer.of(type), u24(body.length), u16(seq), u24(off), u24(part.length), part]));
  }
  return out;
}

/** Collects one message's fragments, overlapping or out of order (§4.2.3). */
export class Reassembly {
  readonly type: number;
  readonly body: Buffer;
  private readonly have: Uint8Array;
  private missing: number;

  constructor(type: number, length: number) {
    this.type = type;
    this.body = Buffer.alloc(length);
    this.have = new Uint8Array(length);
    this.missing = length;
  }

  add(f: Fragment): boolean {
    if (f.type !== this.type || f.length !== this.body.length) throw new DtlsDecodeError('fragments of one message disagree', 47);
    for (let i = 0; i < f.body.length; i++) {
      if (this.have[f.offset + i]) continue;
      this.have[f.offset + i] = 1;
      this.body[f.offset + i] = f.body[i]!;
      this.missing--;
    }
    return this.missing === 0;
  }

  complete(): boolean {
    return this.missing === 0;
  }
}

export interface ClientHello {
  readonly version: number;
  readonly random: Buffer;
  readonly sessionId: Buffer;
  readonly cookie: Buffer;
  readonly suites: readonly number[];
  readonly extensions: ReadonlyMap<number, Buffer>;
}

export function parseClientHello(body: Buffer): ClientHello {
  const r = new Reader(body);
  const version = r.u16('client_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vector(1, 'session_id', 0, 32);
  const cookie = r.vector(1, 'cookie', 0, 255);
  const suitesRaw = r.vector(2, 'cipher_suites', 2, 2 ** 16 - 2);
  if (suitesRaw.length % 2 !== 0) throw new DtlsDecodeError('cipher_suites of odd length');
  const suites: number[] = [];
  for (let i = 0; i < suitesRaw.length; i += 2) suites.push(suitesRaw.readUInt16BE(i));
  const compression = r.vector(1, 'compression_methods', 1);
  if (!compression.includes(0)) throw new DtlsDecodeError('null compression not offered', 40 /* handshake_failure */);
  const extensions = r.left > 0 ? parseExtensions(r.vector(2, 'extensions')) : new Map<number, Buffer>();
  r.done('ClientHello');
  return { version, random, sessionId, cookie, suites, extensions };
}

export function clientHello(h: Omit<ClientHello, 'extensions'> & { extensions: ReadonlyMap<number, Buffer> }): Buffer {
  return Buffer.concat([
    u16(h.version),
    h.random,
    vec(1, h.sessionId),
    vec(1, h.cookie),
    vec(2, Buffer.concat(h.suites.map(u16))),
    Buffer.of(1, 0),
    extensionsBytes(h.extensions),
  ]);
}

export function parseExtensions(data: Buffer): Map<number, Buffer> {
  const r = new Reader(data);
  const out = new Map<number, Buffer>();
  while (r.left > 0) {
    const type = r.u16('extension type');
    // RFC 5246 §7.4.1.4: no type more than once
    if (out.has(type)) throw new DtlsDecodeError(`extension ${type} twice`, 47);
    out.set(type, r.vector(2, 'extension data'));
  }
  return out;
}

export function extensionsBytes(ext: ReadonlyMap<number, Buffer>): Buffer {
  if (ext.size === 0) return Buffer.alloc(0);
  return vec(2, Buffer.concat([...ext].map(([t, d]) => Buffer.concat([u16(t), vec(2, d)]))));
}

export interface ServerHello {
  readonly version: number;
  readonly random: Buffer;
  readonly sessionId: Buffer;
  readonly suite: number;
  readonly extensions: ReadonlyMap<number, Buffer>;
}

export function serverHello(h: ServerHello): Buffer {
  return Buffer.concat([u16(h.version), h.random, vec(1, h.sessionId), u16(h.suite), Buffer.of(0), extensionsBytes(h.extensions)]);
}

export function parseServerHello(body: Buffer): ServerHello {
  const r = new Reader(body);
  const version = r.u16('server_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vector(1, 'session_id', 0, 32);
  const suite = r.u16('cipher_suite');
  if (r.u8('compression_method') !== 0) throw new DtlsDecodeError('compression chosen', 47);
  const extensions = r.left > 0 ? parseExtensions(r.vector(2, 'extensions')) : new Map<number, Buffer>();
  r.done('ServerHello');
  return { version, random, sessionId, suite, extensions };
}

export function parseHelloVerifyRequest(body: Buffer): Buffer {
  const r = new Reader(body);
  r.u16('server_version');
  const cookie = r.vector(1, 'cookie', 0, 255);
  r.done('HelloVerifyRequest');
  return cookie;
}

/** RFC 4279 §2: ClientKeyExchange and ServerKeyExchange of plain PSK carry one identity (hint). */
export function parsePskIdentity(body: Buffer, what: string): Buffer {
  const r = new Reader(body);
  const id = r.vector(2, what, 0, 128);
  r.done(what);
  return id;
}
