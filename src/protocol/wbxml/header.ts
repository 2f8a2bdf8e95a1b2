// WBXML header: version, public id, charset, string table (WBXML 1.3 §5.4; spec digest §7.1).
import { WbxmlError, WbxmlErrorCode } from '../errors.ts';

export const PublicId = {
  Unknown: 0x01,
  SyncML10: 0x0fd1,
  SyncML11: 0x0fd3,
  SyncML12: 0x1201,
} as const;

const KNOWN_IDS: ReadonlySet<number> = new Set(Object.values(PublicId));
// Real servers put the literal id in the string table, sometimes naming 1.1 beside VerDTD 1.2
// (AOSP test message, vector 06): accept any SyncML 1.x literal and key on the tokens.
const LITERAL_ID = /^-\/\/SYNCML\/\/DTD SyncML (DM )?1\.[0-2]\/\/EN$/i;

export const CHARSET_UTF8 = 106;
const CHARSETS: ReadonlySet<number> = new Set([CHARSET_UTF8, 3 /* US-ASCII */, 0 /* unknown: UTF-8 */]);

export interface WbxmlHeader {
  readonly version: number;
  readonly publicId: number | string;
  readonly charset: number;
  readonly stringTable: Uint8Array;
  readonly bodyOffset: number;
}

export function readMbUint32(b: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (pos + i >= b.length) throw new WbxmlError(WbxmlErrorCode.Truncated, b.length, 'multi-byte integer cut short');
    const byte = b[pos + i]!;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (value > 0xffffffff) throw new WbxmlError(WbxmlErrorCode.BadInteger, pos, 'multi-byte integer over 32 bits');
      return { value, next: pos + i + 1 };
    }
  }
  throw new WbxmlError(WbxmlErrorCode.BadInteger, pos, 'multi-byte integer longer than 5 bytes');
}

export function readHeader(b: Uint8Array): WbxmlHeader {
  if (b.length < 1) throw new WbxmlError(WbxmlErrorCode.Truncated, 0, 'empty message');
  const version = b[0]!;
  if (version < 1 || version > 3) {
    throw new WbxmlError(
      WbxmlErrorCode.UnsupportedVersion,
      0,
      `WBXML version byte 0x${version.toString(16).padStart(2, '0')} (1.1–1.3 supported)`,
    );
  }
  let id = readMbUint32(b, 1);
  let literalIndex = -1;
  if (id.value === 0) {
    const index = readMbUint32(b, id.next);
    literalIndex = index.value;
    id = { value: 0, next: index.next };
  } else if (!KNOWN_IDS.has(id.value)) {
    throw new WbxmlError(WbxmlErrorCode.UnknownPublicId, 1, `public id 0x${id.value.toString(16)} is not SyncML`);
  }
  const charsetAt = id.next;
  const charset = readMbUint32(b, charsetAt);
  if (!CHARSETS.has(charset.value)) {
    throw new WbxmlError(WbxmlErrorCode.UnsupportedCharset, charsetAt, `charset MIBenum ${charset.value} (UTF-8 only)`);
  }
  const len = readMbUint32(b, charset.next);
  const tableEnd = len.next + len.value;
  if (tableEnd > b.length) throw new WbxmlError(WbxmlErrorCode.Truncated, b.length, `string table of ${len.value} bytes runs past the end`);
  const stringTable = b.subarray(len.next, tableEnd);
  let publicId: number | string = id.value;
  if (literalIndex >= 0) {
    if (literalIndex >= stringTable.length) {
      throw new WbxmlError(WbxmlErrorCode.BadStringTableRef, 2, `public id index ${literalIndex} is past the string table`);
    }
    const nul = stringTable.indexOf(0, literalIndex);
    publicId = Buffer.from(stringTable.buffer, stringTable.byteOffset, stringTable.byteLength).toString(
      'latin1',
      literalIndex,
      nul < 0 ? stringTable.length : nul,
    ); // no NUL at the end is tolerated
    if (!LITERAL_ID.test(publicId)) {
      throw new WbxmlError(WbxmlErrorCode.UnknownPublicId, 2, `public id ${JSON.stringify(publicId.slice(0, 60))} is not SyncML`);
    }
  }
  return { version, publicId, charset: charset.value, stringTable, bodyOffset: tableEnd };
}

export function publicIdFor(verDtd: string): number {
  if (verDtd === '1.1') return PublicId.SyncML11;
  if (verDtd === '1.0') return PublicId.SyncML10;
  return PublicId.SyncML12;
}
