import { MessageError, MessageErrorCode } from '../errors.ts';
import type { TokenWriter } from '../codec/tokens.ts';
import { CHARSET_UTF8 } from './header.ts';

const END = 0x01,
  STR_I = 0x03,
  OPAQUE = 0xc3;

/**
 * Writes WBXML straight from tokens: no string table (always valid, and what the spec digest §7.6
 * recommends), STR_I for text, OPAQUE for binary, lazy page switches like libwbxml.
 */
export class WbxmlTokenWriter implements TokenWriter {
  private buf: Buffer;
  private pos = 0;
  private page = 0;

  constructor(version: number, publicId: number, sizeHint = 512) {
    this.buf = Buffer.allocUnsafe(sizeHint);
    this.byte(version);
    this.mb(publicId);
    this.byte(CHARSET_UTF8);
    this.byte(0); // string table length
  }

  start(tag: number): void {
    this.tag(tag, 0x40);
  }

  empty(tag: number): void {
    this.tag(tag, 0);
  }

  end(): void {
    this.byte(END);
  }

  text(value: string): void {
    if (value.indexOf('\0') >= 0) {
      throw new MessageError(MessageErrorCode.NotRepresentable, -1, 'text with a NUL character cannot be an inline WBXML string');
    }
    this.byte(STR_I);
    this.utf8(value);
    this.byte(0);
  }

  dataText(value: string): void {
    if (value.indexOf('\0') < 0) this.text(value);
    else this.opaque(Buffer.from(value, 'utf8')); // decoded back to the same text under a text Format
  }

  opaque(value: Uint8Array): void {
    this.byte(OPAQUE);
    this.mb(value.length);
    this.room(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** The encoded message (a view on the writer's buffer). */
  result(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
  }

  private tag(tag: number, content: number): void {
    const page = tag >> 8;
    if (page !== this.page) {
      this.room(2);
      this.buf[this.pos++] = 0x00;
      this.buf[this.pos++] = page;
      this.page = page;
    }
    this.byte((tag & 0x3f) | content);
  }

  private utf8(value: string): void {
    const n = value.length;
    this.room(n * 3);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = pos + buf.write(value.slice(i), pos, 'utf8');
        return;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  private mb(value: number): void {
    this.room(5);
    let shift = 28;
    while (shift > 0 && value >>> shift === 0) shift -= 7;
    for (; shift > 0; shift -= 7) this.buf[this.pos++] = ((value >>> shift) & 0x7f) | 0x80;
    this.buf[this.pos++] = value & 0x7f;
  }

  private byte(value: number): void {
    if (this.pos >= this.buf.length) this.room(1);
    this.buf[this.pos++] = value;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}
