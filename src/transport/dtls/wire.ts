// Bounds-checked reading and writing of TLS presentation-language fields (RFC 5246 §4): every
// length is checked against what is left, so a malformed message ends in a DtlsDecodeError,
// never in an out-of-range read.

/** A message that does not parse; the handler answers it with this alert (RFC 5246 §7.2.2). */
export class DtlsDecodeError extends Error {
  readonly alert: number;
  constructor(message: string, alert = 50 /* decode_error */) {
    super(message);
    this.name = 'DtlsDecodeError';
    this.alert = alert;
  }
}

export class Reader {
  private readonly buf: Buffer;
  private pos: number;
  private readonly end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get left(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) throw new DtlsDecodeError(`${what}: ${n} bytes needed, ${this.end - this.pos} left`);
  }

  u8(what = 'uint8'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'uint16'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(what = 'uint24'): number {
    this.need(3, what);
    const v = this.buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u48(what = 'uint48'): number {
    this.need(6, what);
    const v = this.buf.readUIntBE(this.pos, 6);
    this.pos += 6;
    return v;
  }

  bytes(n: number, what = 'bytes'): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** a vector with a 1-, 2- or 3-byte length prefix; `max` is the spec's ceiling */
  vector(prefix: 1 | 2 | 3, what: string, min = 0, max = 2 ** (8 * prefix) - 1): Buffer {
    const n = prefix === 1 ? this.u8(what) : prefix === 2 ? this.u16(what) : this.u24(what);
    if (n < min || n > max) throw new DtlsDecodeError(`${what}: length ${n} outside ${min}..${max}`, 47 /* illegal_parameter */);
    return this.bytes(n, what);
  }

  rest(): Buffer {
    return this.bytes(this.left);
  }

  done(what: string): void {
    if (this.left !== 0) throw new DtlsDecodeError(`${what}: ${this.left} bytes too many`);
  }
}

export function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n);
  return b;
}

export function u24(n: number): Buffer {
  const b = Buffer.allocUnsafe(3);
  b.writeUIntBE(n, 0, 3);
  return b;
}

export function vec(prefix: 1 | 2 | 3, body: Buffer): Buffer {
  const head = prefix === 1 ? Buffer.of(body.length) : prefix === 2 ? u16(body.length) : u24(body.length);
  return Buffer.concat([head, body]);
}
