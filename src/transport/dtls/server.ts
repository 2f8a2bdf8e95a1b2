// A DTLS 1.2 server on one UDP socket: the stateless cookie exchange (RFC 6347 §4.2.1), one
// ServerConnection per peer after it, a bounded session cache for resumption, idle and handshake
// timeouts. Nothing a datagram holds can throw out of the socket handler.
import { createHmac, createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';

import { isEcdhe, SUITES, Suite, type SuiteId, sha256 } from './cipher.ts';
import { Alert, type DtlsConnection } from './connection.ts';
import { type ClientHello, HandshakeType, message, parseClientHello, parseFragments } from './handshake.ts';
import { ContentType, DTLS10, DTLS12, type DtlsRecord, parseRecords, recordHeader } from './record.ts';
import { clientOffersRpk } from './rpk.ts';
import { type CachedSession, type PskLookup, pskCandidates, ServerConnection, type ServerRpk } from './server-connection.ts';
import { DtlsDecodeError, u16, u24, vec } from './wire.ts';

export interface DtlsServerOptions {
  /** a bound socket to serve on; else one is bound to host:port */
  readonly socket?: Socket;
  readonly host?: string;
  readonly port?: number;
  /** the key of a PSK identity; undefined when there is none (the handshake then fails at Finished) */
  readonly psk: PskLookup;
  /** raw public keys (RFC 7250) with TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 on P-256 */
  readonly rpk?: ServerRpk;
  /** in order of preference; default the PSK suites (CCM_8 first), then ECDHE_ECDSA when `rpk` is set */
  readonly suites?: readonly SuiteId[];
  /** an association nobody spoke on for this long is forgotten (default 24 h; resumption makes a new one cheap) */
  readonly idleMs?: number;
  /** a handshake not done in this time is dropped (default 30 s) */
  readonly handshakeTimeoutMs?: number;
  /** sessions kept for resumption (default 10,000; the oldest goes first) */
  readonly maxSessions?: number;
  /** associations, handshaking or established (default 100,000): beyond it new ClientHellos are ignored */
  readonly maxPeers?: number;
}

export interface DtlsServerStats {
  /** per-peer state held now: handshakes in progress and established associations */
  readonly peers: number;
  readonly established: number;
  readonly helloVerifyRequests: number;
  readonly fullHandshakes: number;
  readonly resumedHandshakes: number;
  readonly failedHandshakes: number;
  readonly dropped: { malformed: number; replayed: number; unauthenticated: number; unexpected: number };
  /** exceptions other than a refusal of malformed input: bugs, each answered with an alert (fuzzing asserts 0) */
  readonly internalErrors: number;
}

const COOKIE_SECRET_MS = 60_000;

/**
 * Events: 'connection' (conn) when a handshake completes (conn.identity is the PSK identity);
 * 'handshakeFailed' ({ remote, identity?, reason }); 'error' (err) of the socket.
 */
export class DtlsServer extends EventEmitter {
  private readonly options: DtlsServerOptions;
  private socket: Socket | undefined;
  private ownSocket = false;
  private readonly peers = new Map<string, ServerConnection>();
  private readonly sessions = new Map<string, CachedSession>();
  private readonly starting = new Set<string>();
  private secret = createSecretKey(randomBytes(32));
  private previousSecret = createSecretKey(randomBytes(32));
  private secretAt = Date.now();
  private sweep: NodeJS.Timeout | undefined;
  private readonly counts = { helloVerifyRequests: 0, fullHandshakes: 0, resumedHandshakes: 0, failedHandshakes: 0 };
  private readonly dropped = { malformed: 0, replayed: 0, unauthenticated: 0, unexpected: 0 };
  private internalErrors = 0;

  constructor(options: DtlsServerOptions) {
    super();
    this.options = options;
  }

  async listen(): Promise<{ host: string; port: number }> {
    let socket = this.options.socket;
    if (!socket) {
      const s = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(this.options.port ?? 5684, this.options.host ?? '127.0.0.1', () => resolve());
      });
      socket = s;
      this.ownSocket = true;
    }
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.datagram(msg, rinfo));
    socket.on('error', (err) => this.emit('error', err));
    const period = Math.min(10_000, this.options.handshakeTimeoutMs ?? 30_000);
    this.sweep = setInterval(() => this.expire(), period);
    this.sweep.unref();
    const a = socket.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Associations now (handshaking ones too). */
  connections(): DtlsConnection[] {
    return [...this.peers.values()].filter((c) => c.established);
  }

  connection(address: string, port: number): DtlsConnection | undefined {
    const c = this.peers.get(`${address}:${port}`);
    return c?.established ? c : undefined;
  }

  stats(): DtlsServerStats {
    const dropped = { ...this.dropped };
    let internalErrors = this.internalErrors;
    for (const c of this.peers.values()) {
      for (const k of ['replayed', 'unauthenticated', 'unexpected'] as const) dropped[k] += c.dropped[k];
      internalErrors += c.internalErrors;
    }
    return { peers: this.peers.size, established: this.connections().length, ...this.counts, dropped, internalErrors };
  }

  /**
   * Ends every association and cached session of an identity (its key was rotated or revoked),
   * but `keep`'s: the association that just proved the new key.
   */
  forget(identity: Buffer, keep?: DtlsConnection): void {
    const kept = keep instanceof ServerConnection ? keep.cached()?.id : undefined;
    for (const [id, s] of this.sessions) if (s.identity.equals(identity) && !(kept && s.id.equals(kept))) this.sessions.delete(id);
    for (const c of [...this.peers.values()]) if (c !== keep && c.identity?.equals(identity)) c.close();
  }

  private datagram(msg: Buffer, rinfo: RemoteInfo): void {
    try {
      const key = `${rinfo.address}:${rinfo.port}`;
      const peer = this.peers.get(key);
      // §4.2.8: a ClientHello at epoch 0 from a known peer may be a client that lost its state
      if (peer && !this.newClientHello(msg, peer)) return peer.receive(msg);
      this.hello(msg, rinfo, key);
    } catch (err) {
      // nothing gets out of the socket handler; a bug here is counted, not a crash
      this.internalErrors++;
      this.emit('handshakeFailed', { remote: { address: rinfo.address, port: rinfo.port }, reason: (err as Error).message });
    }
  }

  private newClientHello(msg: Buffer, peer: ServerConnection): boolean {
    // record type, epoch 0 and handshake type at their fixed offsets: cheap enough for every datagram
    if (msg.length < 25 + 34 || msg[0] !== ContentType.Handshake || msg.readUInt16BE(3) !== 0 || msg[13] !== HandshakeType.ClientHello)
      return false;
    // the same client random is the peer repeating its own handshake, which the association answers
    return !msg.subarray(25 + 2, 25 + 34).equals(peer.clientRandom);
  }

  /** The stateless part: nothing is kept for a ClientHello until it returns our cookie. */
  private hello(msg: Buffer, rinfo: RemoteInfo, key: string): void {
    let record: DtlsRecord;
    let hello: ClientHello;
    let seq: number;
    let raw: Buffer;
    try {
      const records = parseRecords(msg);
      record = records[0]!;
      if (!record || record.type !== ContentType.Handshake || record.epoch !== 0) return void this.dropped.unexpected++;
      const [f] = parseFragments(record.fragment);
      // a ClientHello fits one datagram; a fragmented one is not reassembled before the cookie
      if (!f || f.type !== HandshakeType.ClientHello || f.offset !== 0 || f.body.length !== f.length) return void this.dropped.unexpected++;
      hello = parseClientHello(f.body);
      seq = f.seq;
      raw = message(f.type, f.seq, f.body);
    } catch (err) {
      this.dropped.malformed++;
      if (err instanceof DtlsDecodeError) this.plainAlert(rinfo, err.alert);
      return;
    }
    const ours = this.options.suites ?? (this.options.rpk ? [...SUITES, Suite.ECDHE_ECDSA_AES_128_CCM_8] : SUITES);
    // ECDHE_ECDSA only with a key of ours and a client that takes raw public keys on P-256 both ways
    const rpkOk = this.options.rpk !== undefined && clientOffersRpk(hello.extensions);
    const suite = ours.find((s) => hello.suites.includes(s) && (!isEcdhe(s) || rpkOk));
    if (suite === undefined) {
      this.counts.failedHandshakes++;
      return this.plainAlert(rinfo, Alert.HandshakeFailure);
    }
    if (hello.cookie.length === 0 || !this.cookieOk(hello, rinfo)) {
      this.counts.helloVerifyRequests++;
      // §4.2.1: HelloVerifyRequest, version DTLS 1.0, same message and record sequence numbers
      const body = Buffer.concat([u16(DTLS10), vec(1, this.cookie(this.secret, hello, rinfo))]);
      const hs = Buffer.concat([Buffer.of(HandshakeType.HelloVerifyRequest), u24(body.length), u16(seq), u24(0), u24(body.length), body]);
      return this.send(Buffer.concat([recordHeader(ContentType.Handshake, DTLS12, 0, record.seq, hs.length), hs]), rinfo);
    }
    if (this.peers.size >= (this.options.maxPeers ?? 100_000) || this.starting.has(key)) return void this.dropped.unexpected++;
    const cached = hello.sessionId.length > 0 ? this.sessions.get(hello.sessionId.toString('hex')) : undefined;
    // RFC 7627 §5.3: a session made with the extended master secret resumes only with it, and the reverse
    const resumable = cached && cached.suite === suite && cached.extendedMaster === hello.extensions.has(0x0017) ? cached : undefined;
    const start = (resume: CachedSession | undefined): void => {
      this.peers.get(key)?.end('the client started a new handshake');
      const conn = new ServerConnection({ address: rinfo.address, port: rinfo.port }, (d) => this.send(d, rinfo), {
        hello,
        helloRaw: raw,
        helloSeq: seq,
        recordSeq: record.seq,
        suite,
        psk: this.options.psk,
        ...(this.options.rpk ? { rpk: this.options.rpk } : {}),
        ...(resume ? { resume } : {}),
      });
      this.adopt(key, conn);
      conn.start();
    };
    if (!resumable) return start(undefined);
    // the key may have been rotated since: resume only with the PSK the session was made with
    this.starting.add(key);
    void Promise.resolve()
      .then(async () =>
        isEcdhe(resumable.suite)
          ? (await this.options.rpk?.trustedClientKey(resumable.identity))
            ? resumable
            : undefined
          : pskCandidates(await this.options.psk(resumable.identity)).some((k) => sha256(k).equals(resumable.pskHash))
            ? resumable
            : undefined,
      )
      .catch(() => undefined)
      .then((r) => {
        this.starting.delete(key);
        if (this.socket) start(r);
      });
  }

  private adopt(key: string, conn: ServerConnection): void {
    this.peers.set(key, conn);
    conn.once('connect', () => {
      if (conn.resumed) this.counts.resumedHandshakes++;
      else this.counts.fullHandshakes++;
      const s = conn.cached();
      if (s) this.remember(s);
      this.emit('connection', conn);
    });
    conn.once('close', (reason: string) => {
      if (this.peers.get(key) === conn) this.peers.delete(key);
      for (const k of ['replayed', 'unauthenticated', 'unexpected'] as const) this.dropped[k] += conn.dropped[k];
      this.internalErrors += conn.internalErrors;
      if (!conn.established) {
        this.counts.failedHandshakes++;
        this.emit('handshakeFailed', { remote: conn.remote, ...(conn.identity ? { identity: conn.identity } : {}), reason });
      }
    });
  }

  private remember(s: CachedSession): void {
    const id = s.id.toString('hex');
    this.sessions.delete(id);
    this.sessions.set(id, s);
    const max = this.options.maxSessions ?? 10_000;
    while (this.sessions.size > max) this.sessions.delete(this.sessions.keys().next().value!);
  }

  /** §4.2.1: an HMAC of the client's address and its hello's parameters under a secret that rotates. */
  private cookie(secret: KeyObject, hello: ClientHello, rinfo: RemoteInfo): Buffer {
    return createHmac('sha256', secret)
      .update(`${rinfo.address}|${rinfo.port}|`)
      .update(hello.random)
      .update(hello.sessionId)
      .update(Buffer.from(hello.suites.flatMap((s) => [s >> 8, s & 0xff])))
      .digest()
      .subarray(0, 16);
  }

  private cookieOk(hello: ClientHello, rinfo: RemoteInfo): boolean {
    if (Date.now() - this.secretAt > COOKIE_SECRET_MS) {
      this.previousSecret = this.secret;
      this.secret = createSecretKey(randomBytes(32));
      this.secretAt = Date.now();
    }
    if (hello.cookie.length !== 16) return false;
    return (
      timingSafeEqual(hello.cookie, this.cookie(this.secret, hello, rinfo)) ||
      timingSafeEqual(hello.cookie, this.cookie(this.previousSecret, hello, rinfo))
    );
  }

  /** A fatal alert in the clear, for what fails before any state: no larger than what came in. */
  private plainAlert(rinfo: RemoteInfo, code: number): void {
    this.send(Buffer.concat([recordHeader(ContentType.Alert, DTLS12, 0, 0, 2), Buffer.of(2, code)]), rinfo);
  }

  private send(datagram: Buffer, rinfo: { address: string; port: number }): void {
    this.socket?.send(datagram, rinfo.port, rinfo.address, () => {
      // a send error (unreachable peer) is the peer's problem; the retransmission timer covers it
    });
  }

  private expire(): void {
    const now = Date.now();
    const idle = this.options.idleMs ?? 86_400_000;
    const hsTimeout = this.options.handshakeTimeoutMs ?? 30_000;
    for (const c of [...this.peers.values()]) {
      if (c.established && now - c.lastHeard > idle) c.end('idle');
      else if (!c.established && now - c.createdAt > hsTimeout) c.end('handshake timed out');
    }
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    for (const c of [...this.peers.values()]) c.close();
    const socket = this.socket;
    this.socket = undefined;
    if (socket && this.ownSocket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

export function createDtlsServer(options: DtlsServerOptions): DtlsServer {
  return new DtlsServer(options);
}
