// The server's side of one handshake (RFC 5246 §7.3, RFC 4279 PSK, RFC 6347 flights 4 and 6 or
// the abbreviated handshake), from a ClientHello whose cookie checked out.
import { type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';

import { isEcdhe, keys, masterSecret, pskPremaster, type SuiteId, sha256, verifyData } from './cipher.ts';
import { Alert, DtlsConnection, type DtlsSession, type Peer } from './connection.ts';
import { type ClientHello, Ext, HandshakeType, parsePskIdentity, serverHello } from './handshake.ts';
import { DTLS12 } from './record.ts';
import {
  certificate,
  certificateRequest,
  checkCertificateVerify,
  ecdhKeys,
  parseCertificate,
  parseEcdhPoint,
  type RpkKeys,
  serverKeyExchange,
  serverRpkExtensions,
  spkiOf,
} from './rpk.ts';

/**
 * The key of a PSK identity, or candidate keys in order (a rotation: the new key, then the old):
 * the handshake completes with the first whose keys open the client's Finished.
 */
export type PskLookup = (identity: Buffer) => Promise<PskKeys> | PskKeys;
export type PskKeys = Buffer | readonly Buffer[] | undefined;

/** the candidates a lookup gave, as a list */
export function pskCandidates(keys: PskKeys): readonly Buffer[] {
  return keys === undefined ? [] : Buffer.isBuffer(keys) ? [keys] : keys;
}

/** The server's raw public key (P-256) and which client keys it accepts (RFC 7250). */
export interface ServerRpk extends RpkKeys {
  /** the client's SubjectPublicKeyInfo (DER): whether it may connect */
  trustedClientKey(spki: Buffer): boolean | Promise<boolean>;
}

/** What the server remembers of a session to resume it. */
export interface CachedSession extends DtlsSession {
  readonly identity: Buffer;
  /** the PSK it was made with: a rotated key ends resumption too (RPK: the client key's hash) */
  readonly pskHash: Buffer;
}

export interface ServerHandshake {
  readonly hello: ClientHello;
  readonly helloRaw: Buffer;
  readonly helloSeq: number;
  readonly recordSeq: number;
  readonly suite: SuiteId;
  readonly psk: PskLookup;
  readonly rpk?: ServerRpk;
  /** a cached session to resume (its PSK checked already) */
  readonly resume?: CachedSession;
}

export class ServerConnection extends DtlsConnection {
  private readonly hs: ServerHandshake;
  private readonly serverRandom = randomBytes(32);
  private master: Buffer | undefined;
  private pskHash: Buffer | undefined;
  private readonly ems: boolean;
  readonly clientRandom: Buffer;
  /** ECDHE_ECDSA: our ephemeral key, the client's public key, whether its CertificateVerify checked out */
  private ecdh: ReturnType<typeof ecdhKeys> | undefined;
  private clientKey: KeyObject | undefined;
  private verified = false;
  /** PSK candidates not tried yet (a rotation's old key) */
  private candidates: Buffer[] = [];
  /** which of the lookup's candidate keys the handshake completed with (0: the first) */
  candidate = 0;

  constructor(remote: Peer, send: (d: Buffer) => void, hs: ServerHandshake) {
    super(remote, send);
    this.hs = hs;
    this.suite = hs.suite;
    this.clientRandom = hs.hello.random;
    this.ems = hs.hello.extensions.has(Ext.ExtendedMasterSecret);
    // §4.2.2: the server's message_seq follows the ClientHello it answers
    this.sendSeq = hs.helloSeq;
    this.recvSeq = hs.helloSeq + 1;
    this.setWriteSeq(0, hs.recordSeq);
    this.transcript = [hs.helloRaw];
  }

  start(): void {
    const { hello, suite, resume } = this.hs;
    const extensions = new Map<number, Buffer>();
    // RFC 5746 §3.6: answer the SCSV or the empty extension (OpenSSL 3 clients insist)
    if (hello.suites.includes(0x00ff) || hello.extensions.has(Ext.RenegotiationInfo)) extensions.set(Ext.RenegotiationInfo, Buffer.of(0));
    if (this.ems) extensions.set(Ext.ExtendedMasterSecret, Buffer.alloc(0));
    const rpk = this.hs.rpk;
    if (isEcdhe(suite) && rpk) for (const [t, d] of serverRpkExtensions()) extensions.set(t, d);
    const sessionId = resume ? resume.id : randomBytes(32);
    const hello2 = {
      handshake: HandshakeType.ServerHello,
      body: serverHello({ version: DTLS12, random: this.serverRandom, sessionId, suite, extensions }),
    };
    if (!resume) {
      this.session = { id: sessionId, master: Buffer.alloc(0), suite, extendedMaster: this.ems };
      const done = { handshake: HandshakeType.ServerHelloDone, body: Buffer.alloc(0) };
      if (!isEcdhe(suite) || !rpk) return this.sendFlight([hello2, done], true);
      // RFC 8422 §2.1 with RFC 7250: our key, signed ECDH parameters, and a request for the client's key
      this.ecdh = ecdhKeys();
      const ske = serverKeyExchange(this.ecdh.point, hello.random, this.serverRandom, rpk.privateKey);
      this.sendFlight(
        [
          hello2,
          { handshake: HandshakeType.Certificate, body: certificate(spkiOf(rpk.publicKey)) },
          { handshake: HandshakeType.ServerKeyExchange, body: ske },
          { handshake: HandshakeType.CertificateRequest, body: certificateRequest() },
          done,
        ],
        true,
      );
      return;
    }
    // RFC 5246 §7.3 abbreviated handshake: ServerHello, ChangeCipherSpec, Finished
    this.resumed = true;
    this.identity = resume.identity;
    this.pskHash = resume.pskHash;
    this.session = resume;
    this.deriveKeys(resume.master);
    this.sendFlight([hello2, { ccs: true }, { handshake: HandshakeType.Finished, body: () => this.finished(false) }], true);
  }

  private deriveKeys(master: Buffer): void {
    this.master = master;
    const k = keys(this.hs.suite, master, this.hs.hello.random, this.serverRandom);
    this.setKeys(k.server, k.client);
  }

  private finished(fromClient: boolean): Buffer {
    return verifyData(this.master!, fromClient, sha256(this.transcript));
  }

  protected onHandshake(type: number, body: Buffer, raw: Buffer): void {
    if (this.ecdh && !this.master) return this.ecdheMessage(type, body, raw);
    if (type === HandshakeType.CertificateVerify && this.ecdh && this.clientKey && !this.verified) {
      // RFC 5246 §7.4.8: over every handshake message up to the ClientKeyExchange
      if (!checkCertificateVerify(body, Buffer.concat(this.transcript), this.clientKey))
        return this.fail(Alert.DecryptError, 'the client key did not sign the handshake');
      this.verified = true;
      this.transcript.push(raw);
      return;
    }
    if (type === HandshakeType.ClientKeyExchange && !this.master && !this.hs.resume) {
      const identity = parsePskIdentity(body, 'psk_identity');
      this.transcript.push(raw);
      this.busy = true;
      void Promise.resolve()
        .then(() => this.hs.psk(identity))
        .then(
          (keys) => {
            this.candidates = [...pskCandidates(keys)];
            this.keyed(identity, this.candidates.shift());
          },
          () => this.keyed(identity, undefined),
        );
      return;
    }
    if (type === HandshakeType.Finished && this.master && (!this.ecdh || this.verified)) {
      const expected = this.finished(true);
      if (body.length !== 12 || !timingSafeEqual(body, expected)) return this.fail(Alert.DecryptError, 'client Finished does not verify');
      this.transcript.push(raw);
      if (!this.hs.resume) this.sendFlight([{ ccs: true }, { handshake: HandshakeType.Finished, body: () => this.finished(false) }], false);
      return this.handshakeDone();
    }
    this.fail(Alert.UnexpectedMessage, `handshake message ${type} out of place`);
  }

  /** ECDHE_ECDSA before the keys: the client's Certificate (its raw key, checked), then its ClientKeyExchange. */
  private ecdheMessage(type: number, body: Buffer, raw: Buffer): void {
    if (type === HandshakeType.Certificate && !this.clientKey) {
      const { spki, key } = parseCertificate(body);
      this.transcript.push(raw);
      this.busy = true;
      void Promise.resolve()
        .then(() => this.hs.rpk!.trustedClientKey(spki))
        .then(
          (ok) => ok,
          () => false,
        )
        .then((ok) => {
          if (this.closed) return;
          if (!ok) return this.fail(49 /* access_denied */, 'the client key is not trusted');
          this.identity = spki;
          this.pskHash = sha256(spki);
          this.clientKey = key;
          this.resume();
        });
      return;
    }
    if (type === HandshakeType.ClientKeyExchange && this.clientKey) {
      const premaster = this.ecdh!.secret(parseEcdhPoint(body));
      this.transcript.push(raw);
      const master = masterSecret(premaster, this.hs.hello.random, this.serverRandom, this.ems ? sha256(this.transcript) : undefined);
      this.session = { ...this.session!, master };
      return this.deriveKeys(master);
    }
    this.fail(Alert.UnexpectedMessage, `handshake message ${type} out of place`);
  }

  /** RFC 4279 §2: an unknown identity gets a random key, so it fails at Finished like a wrong key and says nothing of which identities exist. */
  private keyed(identity: Buffer, key: Buffer | undefined): void {
    if (this.closed) return;
    this.usePsk(identity, key);
    this.resume();
  }

  /** A Finished our keys did not open: derive them again from the next candidate PSK, if there is one. */
  protected override otherKeys(): boolean {
    const next = this.candidates.shift();
    if (!next || !this.identity) return false;
    this.candidate++;
    this.usePsk(this.identity, next);
    return true;
  }

  private usePsk(identity: Buffer, key: Buffer | undefined): void {
    const psk = key ?? randomBytes(16);
    this.identity = identity;
    this.pskHash = sha256(psk);
    const premaster = pskPremaster(psk);
    const master = masterSecret(premaster, this.hs.hello.random, this.serverRandom, this.ems ? sha256(this.transcript) : undefined);
    this.session = { ...this.session!, master };
    this.deriveKeys(master);
  }

  cached(): CachedSession | undefined {
    if (!this.session || !this.identity || !this.pskHash) return undefined;
    return { ...this.session, identity: this.identity, pskHash: this.pskHash };
  }

  protected onFlightTimeout(): void {
    this.end('handshake timed out');
  }
}
