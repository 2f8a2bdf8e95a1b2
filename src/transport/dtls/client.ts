// A DTLS 1.2 PSK client (RFC 6347 flights 1, 3, 5; or the abbreviated handshake when a session
// is offered back): the simulated LwM2M device, the tests and the benchmark use it.
import { type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

import { isEcdhe, keys, masterSecret, pskPremaster, SUITES, Suite, type SuiteId, sha256, verifyData } from './cipher.ts';
import { Alert, DtlsConnection, type DtlsSession } from './connection.ts';
import { clientHello, Ext, HandshakeType, message, parseHelloVerifyRequest, parseServerHello } from './handshake.ts';
import { DTLS12 } from './record.ts';
import {
  certificate,
  certificateVerify,
  clientRpkExtensions,
  ecdhKeys,
  parseCertificate,
  parseServerKeyExchange,
  type RpkKeys,
  spkiOf,
} from './rpk.ts';
import { vec } from './wire.ts';

export interface DtlsClientOptions {
  readonly host: string;
  readonly port: number;
  /** a PSK identity and key, or (`rpk`) our P-256 key pair and which server keys we accept */
  readonly psk?: { readonly identity: Buffer | string; readonly key: Buffer };
  readonly rpk?: RpkKeys & { trustedServerKey(spki: Buffer): boolean };
  /** a socket of our own (bound or not); else one is bound to an ephemeral port and closed with the connection */
  readonly socket?: Socket;
  readonly suites?: readonly SuiteId[];
  /** a session from an earlier connection: the server may resume it (abbreviated handshake) */
  readonly session?: DtlsSession;
  /** the handshake gives up after this (default 30 s) */
  readonly timeoutMs?: number;
}

class ClientConnection extends DtlsConnection {
  private readonly options: DtlsClientOptions;
  private readonly clientRandom = randomBytes(32);
  private serverRandom: Buffer | undefined;
  private master: Buffer | undefined;
  private ems = false;
  private helloBody: Buffer | undefined;
  /** ECDHE_ECDSA: the server's key and ephemeral point, and whether it asked for ours */
  private serverKey: KeyObject | undefined;
  private serverPoint: Buffer | undefined;
  private keyRequested = false;

  constructor(options: DtlsClientOptions, send: (d: Buffer) => void) {
    super({ address: options.host, port: options.port }, send);
    this.options = options;
    if (options.psk) this.identity = Buffer.from(options.psk.identity);
  }

  start(cookie: Buffer = Buffer.alloc(0)): void {
    const extensions = new Map<number, Buffer>([
      [Ext.ExtendedMasterSecret, Buffer.alloc(0)],
      [Ext.RenegotiationInfo, Buffer.of(0)],
      ...(this.options.rpk ? clientRpkExtensions() : []),
    ]);
    this.helloBody = clientHello({
      version: DTLS12,
      random: this.clientRandom,
      sessionId: this.options.session?.id ?? Buffer.alloc(0),
      cookie,
      suites: this.offered(),
      extensions,
    });
    this.transcript = []; // §4.2.1: the transcript starts at the ClientHello that carries the cookie
    this.sendFlight([{ handshake: HandshakeType.ClientHello, body: this.helloBody }], true);
  }

  protected onHandshake(type: number, body: Buffer, raw: Buffer): void {
    if (type === HandshakeType.HelloVerifyRequest && !this.serverRandom) {
      this.transcript = [];
      return this.start(parseHelloVerifyRequest(body));
    }
    if (type === HandshakeType.ServerHello && !this.serverRandom) {
      const sh = parseServerHello(body);
      if (sh.version !== DTLS12) return this.fail(Alert.HandshakeFailure, 'the server does not speak DTLS 1.2');
      if (!this.offered().includes(sh.suite as SuiteId))
        return this.fail(Alert.IllegalParameter, 'the server chose a suite we did not offer');
      this.serverRandom = sh.random;
      this.suite = sh.suite as SuiteId;
      this.ems = sh.extensions.has(Ext.ExtendedMasterSecret);
      this.transcript.push(raw);
      const offered = this.options.session;
      if (offered && sh.sessionId.length > 0 && sh.sessionId.equals(offered.id)) {
        if (offered.suite !== sh.suite || offered.extendedMaster !== this.ems)
          return this.fail(Alert.HandshakeFailure, 'resumed session differs');
        this.resumed = true;
        this.session = offered;
        this.derive(offered.master);
      } else this.session = { id: sh.sessionId, master: Buffer.alloc(0), suite: this.suite, extendedMaster: this.ems };
      return;
    }
    if (isEcdhe(this.suite ?? 0) && this.serverRandom && !this.resumed && !this.master) return this.ecdheMessage(type, body, raw);
    if (type === HandshakeType.ServerKeyExchange && this.serverRandom && !this.resumed && !this.master) {
      this.transcript.push(raw); // a PSK identity hint: we know which identity we are
      return;
    }
    if (type === HandshakeType.ServerHelloDone && this.serverRandom && !this.resumed && !this.master) {
      this.transcript.push(raw);
      const cke = vec(2, this.identity!);
      // the session hash (RFC 7627 §3) covers the ClientKeyExchange: it joins the transcript first
      const withCke = [...this.transcript];
      const premaster = pskPremaster(this.options.psk!.key);
      const seq = this.sendSeq;
      withCke.push(message(HandshakeType.ClientKeyExchange, seq, cke));
      const master = masterSecret(premaster, this.clientRandom, this.serverRandom, this.ems ? sha256(withCke) : undefined);
      this.session = { ...this.session!, master };
      this.derive(master);
      this.sendFlight(
        [
          { handshake: HandshakeType.ClientKeyExchange, body: cke },
          { ccs: true },
          { handshake: HandshakeType.Finished, body: () => verifyData(master, true, sha256(this.transcript)) },
        ],
        true,
      );
      return;
    }
    if (type === HandshakeType.Finished && this.master) {
      const expected = verifyData(this.master, false, sha256(this.transcript));
      if (body.length !== 12 || !timingSafeEqual(body, expected)) return this.fail(Alert.DecryptError, 'server Finished does not verify');
      this.transcript.push(raw);
      if (this.resumed)
        this.sendFlight(
          [{ ccs: true }, { handshake: HandshakeType.Finished, body: () => verifyData(this.master!, true, sha256(this.transcript)) }],
          false,
        );
      else this.stopTimer();
      return this.handshakeDone();
    }
    this.fail(Alert.UnexpectedMessage, `handshake message ${type} out of place`);
  }

  private offered(): readonly SuiteId[] {
    return this.options.suites ?? (this.options.rpk ? [Suite.ECDHE_ECDSA_AES_128_CCM_8] : SUITES);
  }

  /** ECDHE_ECDSA (RFC 8422, RFC 7250): the server's key, its signed point, its request, then our flight. */
  private ecdheMessage(type: number, body: Buffer, raw: Buffer): void {
    const rpk = this.options.rpk;
    if (!rpk) return this.fail(Alert.HandshakeFailure, 'ECDHE_ECDSA without a key pair of ours');
    if (type === HandshakeType.Certificate && !this.serverKey) {
      const { spki, key } = parseCertificate(body);
      if (!rpk.trustedServerKey(spki)) return this.fail(49 /* access_denied */, 'the server key is not trusted');
      this.transcript.push(raw);
      this.serverKey = key;
      this.identity = spki;
      return;
    }
    if (type === HandshakeType.ServerKeyExchange && this.serverKey && !this.serverPoint) {
      this.serverPoint = parseServerKeyExchange(body, this.clientRandom, this.serverRandom!, this.serverKey);
      this.transcript.push(raw);
      return;
    }
    if (type === HandshakeType.CertificateRequest && this.serverPoint) {
      this.keyRequested = true;
      this.transcript.push(raw);
      return;
    }
    if (type === HandshakeType.ServerHelloDone && this.serverPoint) {
      this.transcript.push(raw);
      const ecdh = ecdhKeys();
      const premaster = ecdh.secret(this.serverPoint);
      const cert = certificate(spkiOf(rpk.publicKey));
      const cke = vec(1, ecdh.point);
      let seq = this.sendSeq;
      const withCke = [...this.transcript];
      if (this.keyRequested) withCke.push(message(HandshakeType.Certificate, seq++, cert));
      withCke.push(message(HandshakeType.ClientKeyExchange, seq, cke));
      const master = masterSecret(premaster, this.clientRandom, this.serverRandom!, this.ems ? sha256(withCke) : undefined);
      this.session = { ...this.session!, master };
      this.derive(master);
      const signed = {
        handshake: HandshakeType.CertificateVerify,
        body: () => certificateVerify(Buffer.concat(this.transcript), rpk.privateKey),
      };
      this.sendFlight(
        [
          ...(this.keyRequested ? [{ handshake: HandshakeType.Certificate, body: cert }] : []),
          { handshake: HandshakeType.ClientKeyExchange, body: cke },
          // RFC 5246 §7.4.8: signed over every handshake message so far
          ...(this.keyRequested ? [signed] : []),
          { ccs: true as const },
          { handshake: HandshakeType.Finished, body: () => verifyData(master, true, sha256(this.transcript)) },
        ],
        true,
      );
      return;
    }
    this.fail(Alert.UnexpectedMessage, `handshake message ${type} out of place`);
  }

  private derive(master: Buffer): void {
    this.master = master;
    const k = keys(this.suite!, master, this.clientRandom, this.serverRandom!);
    this.setKeys(k.client, k.server);
  }

  protected onFlightTimeout(): void {
    this.end('the server did not answer');
  }
}

/** Opens a DTLS association; resolves once the handshake is done, rejects when it fails. */
export async function connectDtls(options: DtlsClientOptions): Promise<DtlsConnection> {
  let socket = options.socket;
  const own = !socket;
  if (!socket) {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, () => resolve());
    });
    socket = s;
  }
  const sock = socket;
  let sending = 0;
  let closing = false;
  const sent = (): void => {
    if (--sending === 0 && closing) sock.close();
  };
  const conn = new ClientConnection(options, (d) => {
    sending++;
    sock.send(d, options.port, options.host, sent);
  });
  const onMessage = (msg: Buffer, rinfo: { address: string; port: number }): void => {
    if (rinfo.port === options.port) conn.receive(msg);
  };
  sock.on('message', onMessage);
  conn.once('close', () => {
    sock.off('message', onMessage);
    // the close_notify is on its way: the socket closes once it went
    if (own && sending === 0) sock.close();
    else closing = own;
  });
  return new Promise<DtlsConnection>((resolve, reject) => {
    const timer = setTimeout(() => conn.end('handshake timed out'), options.timeoutMs ?? 30_000);
    conn.once('connect', () => {
      clearTimeout(timer);
      resolve(conn);
    });
    conn.once('close', (reason: string) => {
      clearTimeout(timer);
      reject(new Error(`DTLS handshake with ${options.host}:${options.port} failed: ${reason}`));
    });
    conn.start();
  });
}
