// The DTLS 1.2 record layer (RFC 6347 §4.1): header, several records per datagram, and the
// anti-replay window (§4.1.2.6).
import { DtlsDecodeError, Reader } from './wire.ts';

export const ContentType = { ChangeCipherSpec: 20, Alert: 21, Handshake: 22, ApplicationData: 23 } as const;
export const DTLS12 = 0xfefd;
/** RFC 6347 §4.2.1: a ClientHello's record (and a HelloVerifyRequest) may carry DTLS 1.0 */
export const DTLS10 = 0xfeff;
export const RECORD_HEADER = 13;
/** RFC 6347 §4.1 / RFC 5246 §6.2.3: ciphertext is at most 2^14 + 2048 bytes */
const MAX_FRAGMENT = 2 ** 14 + 2048;

export interface DtlsRecord {
  readonly type: number;
  readonly version: number;
  readonly epoch: number;
  readonly seq: number;
  /** header bytes, for the AEAD additional data and MAC */
  readonly fragment: Buffer;
}

/** The records of one datagram; a malformed one ends the datagram (§4.1.2.7: the rest is discarded). */
export function parseRecords(datagram: Buffer): DtlsRecord[] {
  const out: DtlsRecord[] = [];
  const r = new Reader(datagram);
  while (r.left > 0) {
    const type = r.u8('record type');
    if (type < 20 || type > 23) throw new DtlsDecodeError(`record type ${type} unknown`, 10 /* unexpected_message */);
    const version = r.u16('record version');
    if (version !== DTLS12 && version !== DTLS10) throw new DtlsDecodeError(`record version ${version.toString(16)}`, 70);
    const epoch = r.u16('epoch');
    const seq = r.u48('sequence number');
    const fragment = r.vector(2, 'record fragment', 0, MAX_FRAGMENT);
    out.push({ type, version, epoch, seq, fragment });
  }
  return out;
}

export function recordHeader(type: number, version: number, epoch: number, seq: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(RECORD_HEADER);
  h[0] = type;
  h.writeUInt16BE(version, 1);
  h.writeUInt16BE(epoch, 3);
  h.writeUIntBE(seq, 5, 6);
  h.writeUInt16BE(length, 11);
  return h;
}

/** The 8-byte seq_num of the MAC and AEAD inputs: epoch (2) then sequence number (6) (RFC 6347 §4.1.2.1). */
export function seqNum(epoch: number, seq: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt16BE(epoch, 0);
  b.writeUIntBE(seq, 2, 6);
  return b;
}

const WINDOW = 64n;

/**
 * RFC 6347 §4.1.2.6: a 64-record sliding window per epoch. `check` before authenticating
 * (cheap rejection), `accept` only after the record authenticated, so a forged record cannot
 * move the window.
 */
export class ReplayWindow {
  private top = -1;
  private bits = 0n;

  check(seq: number): boolean {
    if (seq > this.top) return true;
    const back = BigInt(this.top - seq);
    if (back >= WINDOW) return false;
    return ((this.bits >> back) & 1n) === 0n;
  }

  accept(seq: number): void {
    if (seq > this.top) {
      const shift = this.top < 0 ? WINDOW : BigInt(seq - this.top);
      this.bits = shift >= WINDOW ? 1n : ((this.bits << shift) | 1n) & ((1n << WINDOW) - 1n);
      this.top = seq;
    } else {
      this.bits |= 1n << BigInt(this.top - seq);
    }
  }
}
