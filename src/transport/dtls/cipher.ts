// Cipher suites, the TLS 1.2 PRF and record protection, on node:crypto.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

import { recordHeader, seqNum } from './record.ts';

export const Suite = {
  /** RFC 6655 §3; LwM2M's mandatory PSK suite */
  PSK_AES_128_CCM_8: 0xc0a8,
  /** RFC 5487 §3.1 */
  PSK_AES_128_CBC_SHA256: 0x00ae,
  /** RFC 7251 §2; LwM2M's suite for raw public keys (RFC 7250) and certificates */
  ECDHE_ECDSA_AES_128_CCM_8: 0xc0ae,
} as const;
export type SuiteId = (typeof Suite)[keyof typeof Suite];
export const SUITES: readonly SuiteId[] = [Suite.PSK_AES_128_CCM_8, Suite.PSK_AES_128_CBC_SHA256];
export const isEcdhe = (suite: number): boolean => suite === Suite.ECDHE_ECDSA_AES_128_CCM_8;

export function suiteName(id: number): string {
  const names: Record<number, string> = {
    [Suite.PSK_AES_128_CCM_8]: 'TLS_PSK_WITH_AES_128_CCM_8',
    [Suite.PSK_AES_128_CBC_SHA256]: 'TLS_PSK_WITH_AES_128_CBC_SHA256',
    [Suite.ECDHE_ECDSA_AES_128_CCM_8]: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
  };
  return names[id] ?? `0x${id.toString(16)}`;
}

/** RFC 5246 §5: P_SHA256(secret, label + seed), `length` bytes. */
export function prf(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const key = createSecretKey(secret);
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let a = labelSeed;
  let total = 0;
  while (total < length) {
    a = createHmac('sha256', key).update(a).digest();
    const block = createHmac('sha256', key).update(a).update(labelSeed).digest();
    out.push(block);
    total += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** RFC 4279 §2: the premaster secret of plain PSK is N zeros and the N-byte key, each length-prefixed. */
export function pskPremaster(psk: Buffer): Buffer {
  const n = psk.length;
  const out = Buffer.alloc(4 + 2 * n);
  out.writeUInt16BE(n, 0);
  out.writeUInt16BE(n, 2 + n);
  psk.copy(out, 4 + n);
  return out;
}

/** RFC 5246 §8.1, or RFC 7627 §4 (extended master secret: over the session hash). */
export function masterSecret(premaster: Buffer, clientRandom: Buffer, serverRandom: Buffer, sessionHash?: Buffer): Buffer {
  return sessionHash
    ? prf(premaster, 'extended master secret', sessionHash, 48)
    : prf(premaster, 'master secret', Buffer.concat([clientRandom, serverRandom]), 48);
}

export function verifyData(master: Buffer, fromClient: boolean, transcriptHash: Buffer): Buffer {
  return prf(master, fromClient ? 'client finished' : 'server finished', transcriptHash, 12);
}

export function sha256(data: Buffer | Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const d of Array.isArray(data) ? data : [data]) h.update(d);
  return h.digest();
}

/** One direction's record protection. */
export interface RecordCipher {
  seal(type: number, version: number, epoch: number, seq: number, plain: Buffer): Buffer;
  /** undefined when the record does not authenticate (RFC 6347 §4.1.2.7: discarded) */
  open(type: number, version: number, epoch: number, seq: number, fragment: Buffer): Buffer | undefined;
}

/** RFC 5246 §6.3 key block, split into the two directions' ciphers. */
export function keys(
  suite: SuiteId,
  master: Buffer,
  clientRandom: Buffer,
  serverRandom: Buffer,
): { client: RecordCipher; server: RecordCipher } {
  const seed = Buffer.concat([serverRandom, clientRandom]);
  if (suite === Suite.PSK_AES_128_CCM_8 || suite === Suite.ECDHE_ECDSA_AES_128_CCM_8) {
    const kb = prf(master, 'key expansion', seed, 40);
    return { client: ccm8(kb.subarray(0, 16), kb.subarray(32, 36)), server: ccm8(kb.subarray(16, 32), kb.subarray(36, 40)) };
  }
  const kb = prf(master, 'key expansion', seed, 96);
  return {
    client: cbcSha256(kb.subarray(0, 32), kb.subarray(64, 80)),
    server: cbcSha256(kb.subarray(32, 64), kb.subarray(80, 96)),
  };
}

/** RFC 5246 §6.2.3.3 with RFC 6655 §3: nonce = 4-byte salt + 8-byte explicit part (epoch | seq). */
// keys become KeyObjects once: importing a raw key at every record is most of a small record's cost
function ccm8(raw: Buffer, salt: Buffer): RecordCipher {
  const key = createSecretKey(raw);
  const aad = (type: number, version: number, epoch: number, seq: number, length: number): Buffer =>
    Buffer.concat([seqNum(epoch, seq), recordHeader(type, version, 0, 0, length).subarray(0, 3), Buffer.of(length >> 8, length & 0xff)]);
  return {
    seal(type, version, epoch, seq, plain) {
      const explicit = seqNum(epoch, seq);
      const c = createCipheriv('aes-128-ccm', key, Buffer.concat([salt, explicit]), { authTagLength: 8 });
      c.setAAD(aad(type, version, epoch, seq, plain.length), { plaintextLength: plain.length });
      const body = c.update(plain);
      c.final();
      return Buffer.concat([explicit, body, c.getAuthTag()]);
    },
    open(type, version, epoch, seq, fragment) {
      if (fragment.length < 16) return undefined;
      const n = fragment.length - 16;
      try {
        const d = createDecipheriv('aes-128-ccm', key, Buffer.concat([salt, fragment.subarray(0, 8)]), { authTagLength: 8 });
        d.setAuthTag(fragment.subarray(8 + n));
        d.setAAD(aad(type, version, epoch, seq, n), { plaintextLength: n });
        const plain = d.update(fragment.subarray(8, 8 + n));
        d.final();
        return plain;
      } catch {
        return undefined;
      }
    },
  };
}

/** RFC 5246 §6.2.3.2: MAC-then-encrypt with an explicit IV per record; HMAC-SHA256 (RFC 5487). */
function cbcSha256(rawMacKey: Buffer, rawKey: Buffer): RecordCipher {
  const macKey: KeyObject = createSecretKey(rawMacKey);
  const key = createSecretKey(rawKey);
  const mac = (type: number, version: number, epoch: number, seq: number, plain: Buffer): Buffer =>
    createHmac('sha256', macKey)
      .update(seqNum(epoch, seq))
      .update(Buffer.of(type, version >> 8, version & 0xff, plain.length >> 8, plain.length & 0xff))
      .update(plain)
      .digest();
  return {
    seal(type, version, epoch, seq, plain) {
      const iv = randomBytes(16);
      const body = Buffer.concat([plain, mac(type, version, epoch, seq, plain)]);
      const pad = 15 - (body.length % 16);
      const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
      return Buffer.concat([iv, c.update(Buffer.concat([body, Buffer.alloc(pad + 1, pad)])), c.final()]);
    },
    open(type, version, epoch, seq, fragment) {
      if (fragment.length < 16 + 48 || fragment.length % 16 !== 0) return undefined;
      const d = createDecipheriv('aes-128-cbc', key, fragment.subarray(0, 16)).setAutoPadding(false);
      const clear = Buffer.concat([d.update(fragment.subarray(16)), d.final()]);
      const pad = clear[clear.length - 1]!;
      // a bad padding still costs a MAC over the whole record (the Lucky 13 countermeasure of RFC 5246 §6.2.3.2)
      let good = pad + 1 + 32 <= clear.length;
      for (let i = 0; good && i <= pad; i++) good = clear[clear.length - 1 - i] === pad;
      const end = good ? clear.length - pad - 1 - 32 : clear.length - 32;
      const plain = clear.subarray(0, end);
      const expected = mac(type, version, epoch, seq, plain);
      const ok = timingSafeEqual(expected, clear.subarray(end, end + 32));
      return good && ok ? plain : undefined;
    },
  };
}
