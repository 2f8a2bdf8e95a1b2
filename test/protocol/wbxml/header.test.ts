import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readHeader, readMbUint32 } from '../../../src/protocol/wbxml/header.ts';

const vectors = [
  {
    name: 'WBXML 1.2, SyncML 1.2, UTF-8, no string table',
    bytes: Uint8Array.of(
      0x02, //       version 1.2
      0xa4,
      0x01, // public id 0x1201 (mb_u_int32)
      0x6a, //       charset 106, UTF-8
      0x00,
    ), //      string table length
    header: { version: 2, publicId: 0x1201, charset: 106, stringTable: new Uint8Array(), bodyOffset: 5 },
  },
  {
    name: 'WBXML 1.1, SyncML 1.1 public id',
    bytes: Uint8Array.of(0x01, 0x9f, 0x53, 0x6a, 0x00),
    header: { version: 1, publicId: 0x0fd3, charset: 106, stringTable: new Uint8Array(), bodyOffset: 5 },
  },
  {
    name: 'literal public id in the string table without its NUL (AOSP test message)',
    bytes: Uint8Array.of(0x02, 0x00, 0x00, 0x6a, 0x1d, ...Buffer.from('-//SYNCML//DTD SyncML 1.1//EN')),
    header: {
      version: 2,
      publicId: '-//SYNCML//DTD SyncML 1.1//EN',
      charset: 106,
      stringTable: new Uint8Array(Buffer.from('-//SYNCML//DTD SyncML 1.1//EN')),
      bodyOffset: 34,
    },
  },
] as const;

const broken = [
  { name: 'empty input', bytes: new Uint8Array(), error: { code: 'WBXML_TRUNCATED', offset: 0 } },
  { name: 'public id cut short', bytes: Uint8Array.of(0x02, 0xa4), error: { code: 'WBXML_TRUNCATED', offset: 2 } },
  {
    name: 'version byte 0x04',
    bytes: Uint8Array.of(0x04, 0xa4, 0x01, 0x6a, 0x00),
    error: { code: 'WBXML_UNSUPPORTED_VERSION', offset: 0 },
  },
  {
    name: 'DevInf public id (not SyncML)',
    bytes: Uint8Array.of(0x02, 0xa4, 0x03, 0x6a, 0x00),
    error: { code: 'WBXML_UNKNOWN_PUBLIC_ID', offset: 1 },
  },
  {
    name: 'charset ISO-8859-1',
    bytes: Uint8Array.of(0x02, 0xa4, 0x01, 0x04, 0x00),
    error: { code: 'WBXML_UNSUPPORTED_CHARSET', offset: 3 },
  },
  {
    name: 'string table longer than the message',
    bytes: Uint8Array.of(0x02, 0xa4, 0x01, 0x6a, 0x20, 0x41),
    error: { code: 'WBXML_TRUNCATED', offset: 6 },
  },
  {
    name: 'literal public id naming another language',
    bytes: Uint8Array.of(0x02, 0x00, 0x00, 0x6a, 0x04, 0x61, 0x62, 0x63, 0x00),
    error: { code: 'WBXML_UNKNOWN_PUBLIC_ID', offset: 2 },
  },
  {
    name: 'literal public id index past the table',
    bytes: Uint8Array.of(0x02, 0x00, 0x09, 0x6a, 0x01, 0x00),
    error: { code: 'WBXML_BAD_STRING_TABLE_REF', offset: 2 },
  },
  {
    name: 'multi-byte integer of 6 bytes',
    bytes: Uint8Array.of(0x02, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01),
    error: { code: 'WBXML_BAD_INTEGER', offset: 1 },
  },
] as const;

for (const v of vectors) {
  test(`${v.name}: decodes`, () => assert.deepStrictEqual(readHeader(v.bytes), v.header));
}
for (const v of broken) {
  test(`${v.name}: is refused`, () => assert.throws(() => readHeader(v.bytes), v.error));
}

test('mb_u_int32 reads 0x1201 from a4 01 and the largest 32-bit value from five bytes', () => {
  assert.deepStrictEqual(readMbUint32(Uint8Array.of(0xa4, 0x01), 0), { value: 0x1201, next: 2 });
  assert.deepStrictEqual(readMbUint32(Uint8Array.of(0x8f, 0xff, 0xff, 0xff, 0x7f), 0), { value: 0xffffffff, next: 5 });
  assert.throws(() => readMbUint32(Uint8Array.of(0x9f, 0xff, 0xff, 0xff, 0x7f), 0), { code: 'WBXML_BAD_INTEGER' });
});
