import { MessageError, MessageErrorCode } from '../errors.ts';
import { utf8DecodeStrict } from '../codec/data.ts';
import { METINF, tagNames, Tag } from '../codec/tags.ts';
import type { TokenWriter } from '../codec/tokens.ts';

// Characters that need escaping, or that XML 1.0 cannot carry at all (C0 controls, lone
// surrogates, U+FFFE/U+FFFF); the slow path sorts them out.
const SPECIAL = /[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/;

export class XmlTokenWriter implements TokenWriter {
  out: string;
  private readonly stack: string[] = [];
  private readonly rootNs: string;

  constructor(verDtd: string, doctype: boolean) {
    const v = verDtd === '1.1' ? '1.1' : '1.2';
    this.rootNs = `SYNCML:SYNCML${v}`;
    this.out = '<?xml version="1.0" encoding="UTF-8"?>';
    if (doctype) {
      this.out +=
        v === '1.2'
          ? '<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd">'
          : '<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.1//EN" "http://www.syncml.org/docs/syncml_represent_v11_20020213.dtd">';
    }
  }

  start(tag: number): void {
    const name = tagNames[tag] ?? '';
    this.out += `<${name}${this.ns(tag)}>`;
    this.stack.push(name);
  }

  empty(tag: number): void {
    this.out += `<${tagNames[tag] ?? ''}${this.ns(tag)}/>`;
  }

  end(): void {
    this.out += `</${this.stack.pop() ?? ''}>`;
  }

  text(value: string): void {
    this.out += SPECIAL.test(value) ? escapeXml(value) : value;
  }

  dataText(value: string): void {
    this.text(value);
  }

  opaque(value: Uint8Array): void {
    const text = utf8DecodeStrict(value);
    // a CR would come back as LF from any XML parser: such bytes cannot travel as CDATA
    if (text === undefined || SPECIAL.test(text.replace(/[&<>]/g, '')) || text.includes(']]>')) {
      throw new MessageError(MessageErrorCode.NotRepresentable, -1, 'binary Data of Format bin cannot be carried in XML; use Format b64');
    }
    this.out += `<![CDATA[${text}]]>`;
  }

  private ns(tag: number): string {
    if (tag >= METINF) return ' xmlns="syncml:metinf"';
    return tag === Tag.SyncML ? ` xmlns="${this.rootNs}"` : '';
  }
}

export function escapeXml(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x26) out += '&amp;';
    else if (c === 0x3c) out += '&lt;';
    else if (c === 0x3e) out += '&gt;';
    else if (c === 0x0d)
      out += '&#13;'; // a raw CR would be read back as LF
    else if (c >= 0xd800 && c <= 0xdbff && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += value[i]! + value[i + 1]!;
      i++;
    } else if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) {
      throw new MessageError(
        MessageErrorCode.NotRepresentable,
        -1,
        `character U+${c.toString(16).padStart(4, '0')} cannot be carried in XML`,
      );
    } else out += value[i]!;
  }
  return out;
}
