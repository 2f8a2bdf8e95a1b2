// WBXML 1.1–1.3 body tokenizer for SyncML code pages 0 (SyncML) and 1 (MetInf), straight to
// tokens (no XML text in between). Page switches persist across END (libwbxml switches lazily).
import { MessageError, MessageErrorCode, WbxmlError, WbxmlErrorCode } from '../errors.ts';
import { isKnownTag, tagNames } from '../codec/tags.ts';
import { Tok, type TokenReader } from '../codec/tokens.ts';
import { readHeader, readMbUint32, type WbxmlHeader } from './header.ts';

const SWITCH_PAGE = 0x00,
  END = 0x01,
  ENTITY = 0x02,
  STR_I = 0x03,
  STR_T = 0x83,
  OPAQUE = 0xc3;

export class WbxmlTokenReader implements TokenReader {
  text = '';
  bytes: Uint8Array = new Uint8Array(0);
  name = '';
  offset = 0;
  readonly header: WbxmlHeader;
  private pos: number;
  private page = 0;
  private depth = 0;
  private pendingEnd = false;
  private started = false;
  private readonly buf: Buffer;
  private readonly maxDepth: number;

  constructor(input: Uint8Array, maxDepth: number) {
    this.buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    this.maxDepth = maxDepth;
    this.header = readHeader(input);
    this.pos = this.header.bodyOffset;
  }

  next(): number {
    if (this.pendingEnd) {
      this.pendingEnd = false;
      this.depth--;
      return Tok.End;
    }
    const b = this.buf;
    for (;;) {
      const pos = this.pos;
      this.offset = pos;
      if (pos >= b.length) {
        if (this.depth > 0 || !this.started) throw new WbxmlError(WbxmlErrorCode.Truncated, pos, 'document ends inside an element');
        return Tok.Eof;
      }
      if (this.depth === 0 && this.started) {
        throw new WbxmlError(WbxmlErrorCode.TrailingBytes, pos, 'bytes after the root element');
      }
      const t = b[pos]!;
      switch (t) {
        case SWITCH_PAGE: {
          if (pos + 1 >= b.length) throw new WbxmlError(WbxmlErrorCode.Truncated, pos + 1, 'SWITCH_PAGE without a page');
          const page = b[pos + 1]!;
          if (page > 1) throw new WbxmlError(WbxmlErrorCode.UnknownCodePage, pos + 1, `code page ${page} is not SyncML (0) or MetInf (1)`);
          this.page = page;
          this.pos = pos + 2;
          continue;
        }
        case END:
          if (this.depth === 0) throw new WbxmlError(WbxmlErrorCode.UnknownToken, pos, 'END without an open element');
          this.depth--;
          this.pos = pos + 1;
          return Tok.End;
        case STR_I: {
          this.inContent(pos);
          const nul = b.indexOf(0, pos + 1);
          if (nul < 0) throw new WbxmlError(WbxmlErrorCode.Truncated, b.length, 'inline string without its NUL');
          this.text = b.toString('utf8', pos + 1, nul);
          this.pos = nul + 1;
          return Tok.Text;
        }
        case STR_T: {
          this.inContent(pos);
          const ref = readMbUint32(b, pos + 1);
          const table = this.header.stringTable;
          if (ref.value >= table.length) {
            throw new WbxmlError(
              WbxmlErrorCode.BadStringTableRef,
              pos + 1,
              `string table reference ${ref.value} is past its end (${table.length})`,
            );
          }
          const nul = table.indexOf(0, ref.value);
          this.text = Buffer.from(table.buffer, table.byteOffset, table.byteLength).toString(
            'utf8',
            ref.value,
            nul < 0 ? table.length : nul,
          );
          this.pos = ref.next;
          return Tok.Text;
        }
        case OPAQUE: {
          this.inContent(pos);
          const len = readMbUint32(b, pos + 1);
          const end = len.next + len.value;
          if (end > b.length) throw new WbxmlError(WbxmlErrorCode.Truncated, b.length, `OPAQUE of ${len.value} bytes runs past the end`);
          this.bytes = new Uint8Array(b.subarray(len.next, end)); // a copy: the model must not alias the input
          this.pos = end;
          return Tok.Opaque;
        }
        case ENTITY: {
          this.inContent(pos);
          const cp = readMbUint32(b, pos + 1);
          if (cp.value > 0x10ffff || (cp.value >= 0xd800 && cp.value <= 0xdfff)) {
            throw new WbxmlError(WbxmlErrorCode.BadInteger, pos + 1, `ENTITY ${cp.value} is not a character`);
          }
          this.text = String.fromCodePoint(cp.value);
          this.pos = cp.next;
          return Tok.Text;
        }
        default:
          return this.tag(t, pos);
      }
    }
  }

  private tag(t: number, pos: number): number {
    const id = (this.page << 8) | (t & 0x3f);
    if ((t & 0x3f) < 5 || (t & 0x80) !== 0 || !isKnownTag(id)) {
      // globals 0x04/0x40-0x44/0x80-0x84/0xc0-0xc4 (LITERAL, EXT, PI) and attributes never occur in SyncML
      throw new WbxmlError(
        WbxmlErrorCode.UnknownToken,
        pos,
        `unknown token 0x${t.toString(16).padStart(2, '0')} on code page ${this.page}`,
      );
    }
    if (this.depth === 0 && this.started) throw new WbxmlError(WbxmlErrorCode.TrailingBytes, pos, 'a second root element');
    this.started = true;
    this.depth++;
    if (this.depth > this.maxDepth) {
      throw new MessageError(MessageErrorCode.TooDeep, pos, `elements nested deeper than ${this.maxDepth}`);
    }
    this.pos = pos + 1;
    this.name = tagNames[id] ?? '';
    if ((t & 0x40) === 0) this.pendingEnd = true;
    return id;
  }

  private inContent(pos: number): void {
    if (this.depth === 0) throw new WbxmlError(WbxmlErrorCode.UnknownToken, pos, 'text outside the root element');
  }
}
