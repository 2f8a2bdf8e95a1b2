// Raw public keys (RFC 7250) with ECDHE_ECDSA on P-256 (RFC 8422, RFC 7251): the messages of
// TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 and their signatures, on node:crypto.
import { createECDH, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

import { Reader, DtlsDecodeError, u16, vec } from './wire.ts';

export const RPK_EXT = {
  SupportedGroups: 10,
  EcPointFormats: 11,
  SignatureAlgorithms: 13,
  ClientCertType: 19,
  ServerCertType: 20,
} as const;
const RAW_PUBLIC_KEY = 2; // RFC 7250 §3 certificate type
const SECP256R1 = 23; // RFC 8422 §5.1.1
const ECDSA_SHA256 = 0x0403; // RFC 5246 §7.4.1.4.1: sha256, ecdsa
const NAMED_CURVE = 3;

export interface RpkKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function spkiOf(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

/** The extensions a client offers for RPK with ECDHE_ECDSA on P-256. */
export function clientRpkExtensions(): [number, Buffer][] {
  return [
    [RPK_EXT.SupportedGroups, vec(2, u16(SECP256R1))],
    [RPK_EXT.EcPointFormats, vec(1, Buffer.of(0))],
    [RPK_EXT.SignatureAlgorithms, vec(2, u16(ECDSA_SHA256))],
    [RPK_EXT.ClientCertType, vec(1, Buffer.of(RAW_PUBLIC_KEY))],
    [RPK_EXT.ServerCertType, vec(1, Buffer.of(RAW_PUBLIC_KEY))],
  ];
}

/** Whether a ClientHello's extensions allow RPK on P-256 with ECDSA-SHA256 both ways. */
export function clientOffersRpk(ext: ReadonlyMap<number, Buffer>): boolean {
  const list = (type: number, prefix: 1 | 2, width: 1 | 2): number[] | undefined => {
    const data = ext.get(type);
    if (!data) return undefined;
    const body = new Reader(data).vector(prefix, `extension ${type}`);
    const out: number[] = [];
    for (let i = 0; i + width <= body.length; i += width) out.push(width === 1 ? body[i]! : body.readUInt16BE(i));
    return out;
  };
  const has = (v: number[] | undefined, x: number, absentOk: boolean): boolean => (v ? v.includes(x) : absentOk);
  return (
    has(list(RPK_EXT.ClientCertType, 1, 1), RAW_PUBLIC_KEY, false) &&
    has(list(RPK_EXT.ServerCertType, 1, 1), RAW_PUBLIC_KEY, false) &&
    has(list(RPK_EXT.SupportedGroups, 2, 2), SECP256R1, true) &&
    has(list(RPK_EXT.SignatureAlgorithms, 2, 2), ECDSA_SHA256, true)
  );
}

export function serverRpkExtensions(): [number, Buffer][] {
  return [
    [RPK_EXT.ClientCertType, Buffer.of(RAW_PUBLIC_KEY)],
    [RPK_EXT.ServerCertType, Buffer.of(RAW_PUBLIC_KEY)],
    [RPK_EXT.EcPointFormats, vec(1, Buffer.of(0))],
  ];
}

/** RFC 7250 §3: with a raw public key the Certificate message is the SubjectPublicKeyInfo alone. */
export function certificate(spki: Buffer): Buffer {
  return vec(3, spki);
}

/** The peer's key, which must be a P-256 EC key. */
export function parseCertificate(body: Buffer): { spki: Buffer; key: KeyObject } {
  const r = new Reader(body);
  const spki = r.vector(3, 'ASN.1_subjectPublicKeyInfo', 1, 1024);
  r.done('Certificate');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    throw new DtlsDecodeError('the raw public key does not parse', 42 /* bad_certificate */);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new DtlsDecodeError('the raw public key is not a P-256 key', 43 /* unsupported_certificate */);
  return { spki: Buffer.from(spki), key };
}

export function ecdhKeys(): { point: Buffer; secret(peerPoint: Buffer): Buffer } {
  const ecdh = createECDH('prime256v1');
  const point = ecdh.generateKeys();
  return {
    point,
    secret(peer) {
      if (peer.length !== 65 || peer[0] !== 4) throw new DtlsDecodeError('an uncompressed P-256 point is 65 bytes', 47);
      try {
        return ecdh.computeSecret(peer);
      } catch {
        throw new DtlsDecodeError('the ECDH point is not on the curve', 47);
      }
    },
  };
}

/** RFC 8422 §5.4: ServerECDHParams and their signature over both randoms. */
export function serverKeyExchange(point: Buffer, clientRandom: Buffer, serverRandom: Buffer, privateKey: KeyObject): Buffer {
  const params = Buffer.concat([Buffer.of(NAMED_CURVE), u16(SECP256R1), vec(1, point)]);
  const signature = sign('sha256', Buffer.concat([clientRandom, serverRandom, params]), { key: privateKey, dsaEncoding: 'der' });
  return Buffer.concat([params, u16(ECDSA_SHA256), vec(2, signature)]);
}

export function parseServerKeyExchange(body: Buffer, clientRandom: Buffer, serverRandom: Buffer, serverKey: KeyObject): Buffer {
  const r = new Reader(body);
  if (r.u8('curve_type') !== NAMED_CURVE || r.u16('namedcurve') !== SECP256R1) throw new DtlsDecodeError('not P-256', 47);
  const point = r.vector(1, 'ECPoint', 1);
  const params = body.subarray(0, 4 + point.length);
  if (r.u16('signature algorithm') !== ECDSA_SHA256) throw new DtlsDecodeError('not ecdsa_secp256r1_sha256', 47);
  const signature = r.vector(2, 'signature');
  r.done('ServerKeyExchange');
  if (!verifySignature(serverKey, Buffer.concat([clientRandom, serverRandom, params]), signature))
    throw new DtlsDecodeError('the ServerKeyExchange signature does not verify', 51 /* decrypt_error */);
  return point;
}

/** RFC 5246 §7.4.4: ecdsa_sign, ecdsa_secp256r1_sha256, no authorities. */
export function certificateRequest(): Buffer {
  return Buffer.concat([vec(1, Buffer.of(64)), vec(2, u16(ECDSA_SHA256)), vec(2, Buffer.alloc(0))]);
}

/** RFC 8422 §5.7: the client's ephemeral point. */
export function parseEcdhPoint(body: Buffer): Buffer {
  const r = new Reader(body);
  const point = r.vector(1, 'ECPoint', 1);
  r.done('ClientKeyExchange');
  return point;
}

/** RFC 5246 §7.4.8: a signature over the handshake messages so far. */
export function certificateVerify(transcript: Buffer, privateKey: KeyObject): Buffer {
  return Buffer.concat([u16(ECDSA_SHA256), vec(2, sign('sha256', transcript, { key: privateKey, dsaEncoding: 'der' }))]);
}

export function checkCertificateVerify(body: Buffer, transcript: Buffer, key: KeyObject): boolean {
  const r = new Reader(body);
  if (r.u16('signature algorithm') !== ECDSA_SHA256) throw new DtlsDecodeError('not ecdsa_secp256r1_sha256', 47);
  const signature = r.vector(2, 'signature');
  r.done('CertificateVerify');
  return verifySignature(key, transcript, signature);
}

function verifySignature(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
