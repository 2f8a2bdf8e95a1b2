// A small XML tokenizer for SyncML: elements, text, CDATA, the five predefined entities and
// character references. DTDs are skipped, never expanded (no external entities, no entity bombs).
// Element names are matched by local name (SyncMLRTK ignores prefixes too).
import { MessageError, MessageErrorCode, XmlError, XmlErrorCode } from '../errors.ts';
import { tagByName } from '../codec/tags.ts';
import { Tok, UNKNOWN_TAG, type TokenReader } from '../codec/tokens.ts';

const LT = 0x3c,
  GT = 0x3e,
  SLASH = 0x2f,
  BANG = 0x21,
  QMARK = 0x3f;

export class XmlTokenReader implements TokenReader {
  text = '';
  readonly bytes = new Uint8Array(0);
  name = '';
  offset = 0;
  private pos = 0;
  private readonly src: string;
  private readonly maxDepth: number;
  private readonly open: string[] = [];
  private pendingEnd = false;
  private done = false;
  private started = false;

  constructor(src: string, maxDepth: number) {
    this.src = src;
    this.maxDepth = maxDepth;
    if (src.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  next(): number {
    if (this.pendingEnd) {
      this.pendingEnd = false;
      this.open.pop();
      return Tok.End;
    }
    const s = this.src;
    for (;;) {
      const pos = this.pos;
      this.offset = pos;
      if (pos >= s.length) {
        if (this.open.length > 0) {
          throw new XmlError(XmlErrorCode.Truncated, pos, `document ends inside <${this.open[this.open.length - 1]}>`);
        }
        if (!this.started) throw new XmlError(XmlErrorCode.Truncated, pos, 'no root element');
        return Tok.Eof;
      }
      if (s.charCodeAt(pos) !== LT) {
        const lt = s.indexOf('<', pos);
        const end = lt < 0 ? s.length : lt;
        this.pos = end;
        if (this.open.length === 0) {
          if (!onlySpace(s, pos, end)) throw new XmlError(XmlErrorCode.Malformed, pos, 'text outside the root element');
          continue;
        }
        this.text = legal(decodeText(s, pos, end), pos);
        return Tok.Text;
      }
      const c1 = s.charCodeAt(pos + 1);
      if (c1 === SLASH) return this.endTag(pos);
      if (c1 === QMARK) {
        this.skipPi(pos);
        continue;
      }
      if (c1 === BANG) {
        if (s.startsWith('<!--', pos)) {
          const close = s.indexOf('-->', pos + 4);
          if (close < 0) throw new XmlError(XmlErrorCode.Truncated, pos, 'unterminated comment');
          this.pos = close + 3;
          continue;
        }
        if (s.startsWith('<![CDATA[', pos)) {
          if (this.open.length === 0) throw new XmlError(XmlErrorCode.Malformed, pos, 'CDATA outside the root element');
          const close = s.indexOf(']]>', pos + 9);
          if (close < 0) throw new XmlError(XmlErrorCode.Truncated, pos, 'unterminated CDATA section');
          this.pos = close + 3;
          // line ends are normalised in CDATA too (XML 1.0 §2.11), as every XML parser does
          this.text = legal(s.slice(pos + 9, close).replace(/\r\n?/g, '\n'), pos + 9);
          return Tok.Text;
        }
        if (s.startsWith('<!DOCTYPE', pos) && !this.started) {
          this.skipDoctype(pos);
          continue;
        }
        throw new XmlError(XmlErrorCode.Malformed, pos, 'unexpected markup declaration');
      }
      return this.startTag(pos);
    }
  }

  private startTag(pos: number): number {
    const s = this.src;
    if (this.done) throw new XmlError(XmlErrorCode.Malformed, pos, 'a second root element');
    let i = pos + 1;
    const nameEnd = scanName(s, i);
    if (nameEnd === i) throw new XmlError(XmlErrorCode.Malformed, pos, 'expected an element name after <');
    const qname = s.slice(i, nameEnd);
    i = nameEnd;
    // attributes: checked for syntax, otherwise ignored (only xmlns is ever sent)
    for (;;) {
      const before = i;
      while (isSpace(s.charCodeAt(i))) i++;
      const c = s.charCodeAt(i);
      if (c === GT) {
        i++;
        break;
      }
      if (c === SLASH && s.charCodeAt(i + 1) === GT) {
        i += 2;
        this.pendingEnd = true;
        break;
      }
      if (i >= s.length) throw new XmlError(XmlErrorCode.Truncated, pos, `unterminated start tag <${qname}`);
      if (i === before) throw new XmlError(XmlErrorCode.Malformed, i, `expected whitespace in <${qname}>`);
      const an = scanName(s, i);
      if (an === i) throw new XmlError(XmlErrorCode.Malformed, i, `bad attribute in <${qname}>`);
      i = an;
      while (isSpace(s.charCodeAt(i))) i++;
      if (s.charCodeAt(i) !== 0x3d) throw new XmlError(XmlErrorCode.Malformed, i, `attribute without = in <${qname}>`);
      i++;
      while (isSpace(s.charCodeAt(i))) i++;
      const q = s.charCodeAt(i);
      if (q !== 0x22 && q !== 0x27) throw new XmlError(XmlErrorCode.Malformed, i, `unquoted attribute in <${qname}>`);
      const close = s.indexOf(q === 0x22 ? '"' : "'", i + 1);
      if (close < 0) throw new XmlError(XmlErrorCode.Truncated, i, `unterminated attribute in <${qname}>`);
      i = close + 1;
    }
    this.pos = i;
    this.started = true;
    this.open.push(qname);
    if (this.open.length > this.maxDepth) {
      throw new MessageError(MessageErrorCode.TooDeep, pos, `elements nested deeper than ${this.maxDepth}`);
    }
    const colon = qname.indexOf(':');
    const local = colon < 0 ? qname : qname.slice(colon + 1);
    this.name = local;
    return tagByName.get(local) ?? UNKNOWN_TAG;
  }

  private endTag(pos: number): number {
    const s = this.src;
    const nameEnd = scanName(s, pos + 2);
    const qname = s.slice(pos + 2, nameEnd);
    let i = nameEnd;
    while (isSpace(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== GT) {
      throw new XmlError(i >= s.length ? XmlErrorCode.Truncated : XmlErrorCode.Malformed, pos, `bad end tag </${qname}`);
    }
    const top = this.open.pop();
    if (top !== qname) {
      throw new XmlError(XmlErrorCode.MismatchedTag, pos, `</${qname}> closes <${top ?? 'nothing'}>`);
    }
    this.pos = i + 1;
    if (this.open.length === 0) this.done = true;
    return Tok.End;
  }

  private skipPi(pos: number): void {
    const close = this.src.indexOf('?>', pos + 2);
    if (close < 0) throw new XmlError(XmlErrorCode.Truncated, pos, 'unterminated processing instruction');
    if (this.src.startsWith('<?xml', pos) && isSpace(this.src.charCodeAt(pos + 5))) {
      const decl = this.src.slice(pos, close);
      const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(decl)?.[1]?.toLowerCase();
      if (enc !== undefined && enc !== 'utf-8' && enc !== 'utf8' && enc !== 'us-ascii') {
        throw new XmlError(XmlErrorCode.Unsupported, pos, `encoding ${enc} is not supported (UTF-8 only)`);
      }
    }
    this.pos = close + 2;
  }

  private skipDoctype(pos: number): void {
    const s = this.src;
    let i = pos + 9;
    let quote = 0;
    let bracket = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (quote !== 0) {
        if (c === quote) quote = 0;
        continue;
      }
      if (c === 0x22 || c === 0x27) quote = c;
      else if (c === 0x5b) bracket++;
      else if (c === 0x5d) bracket--;
      else if (c === GT && bracket <= 0) {
        this.pos = i + 1;
        return;
      }
    }
    throw new XmlError(XmlErrorCode.Truncated, pos, 'unterminated DOCTYPE');
  }
}

function scanName(s: string, i: number): number {
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isSpace(c) || c === GT || c === SLASH || c === 0x3d || c === LT || c === 0x22 || c === 0x27) break;
  }
  return i;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function onlySpace(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(s.charCodeAt(i))) return false;
  return true;
}

const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeText(s: string, from: number, to: number): string {
  let t = s.slice(from, to);
  if (t.indexOf('\r') >= 0) t = t.replace(/\r\n?/g, '\n'); // XML 1.0 §2.11 line-end handling
  if (t.indexOf('&') < 0) return t;
  let out = '';
  let last = 0;
  for (let i = t.indexOf('&'); i >= 0; i = t.indexOf('&', last)) {
    const semi = t.indexOf(';', i);
    if (semi < 0 || semi - i > 12) throw new XmlError(XmlErrorCode.Malformed, from + i, 'unterminated entity reference');
    const ref = t.slice(i + 1, semi);
    out += t.slice(last, i) + entity(ref, from + i);
    last = semi + 1;
  }
  return out + t.slice(last);
}

// XML 1.0 §2.2 Char: no C0 control but tab, LF and CR, no U+FFFE/U+FFFF, raw or by reference.
// A document that has one is not well-formed, and our own XML writer could not echo it back.
const ILLEGAL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function legal(text: string, offset: number): string {
  const bad = ILLEGAL.exec(text);
  if (bad)
    throw new XmlError(
      XmlErrorCode.Malformed,
      offset + bad.index,
      `character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} is not allowed in XML`,
    );
  return text;
}

function entity(ref: string, offset: number): string {
  const named = ENTITIES[ref];
  if (named !== undefined) return named;
  if (ref.charCodeAt(0) === 0x23) {
    const hex = ref.charCodeAt(1) === 0x78;
    const digits = ref.slice(hex ? 2 : 1);
    const cp = (hex ? /^[0-9a-fA-F]{1,6}$/ : /^[0-9]{1,7}$/).test(digits) ? parseInt(digits, hex ? 16 : 10) : NaN;
    if (cp >= 1 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) return String.fromCodePoint(cp);
    throw new XmlError(XmlErrorCode.Malformed, offset, `bad character reference &${ref};`);
  }
  throw new XmlError(XmlErrorCode.UnknownEntity, offset, `unknown entity &${ref.slice(0, 20)};`);
}
