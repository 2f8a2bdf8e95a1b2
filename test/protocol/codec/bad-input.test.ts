// Bad input gets a typed error with a stable code and an offset; quirks real peers send are
// accepted (and said so through onWarning).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DecodeError } from '../../../src/protocol/errors.ts';
import type { Message } from '../../../src/protocol/model.ts';
import { decodeWbxml, encodeWbxml } from '../../../src/protocol/wbxml/index.ts';
import { decodeXml } from '../../../src/protocol/xml/index.ts';
import type { DecodeWarning } from '../../../src/protocol/codec/options.ts';

const HDR =
  '<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>' +
  '<Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>http://s/</LocURI></Source></SyncHdr>';
const doc = (body: string): string => `<SyncML xmlns="SYNCML:SYNCML1.2">${HDR}<SyncBody>${body}<Final/></SyncBody></SyncML>`;

const badXml: { name: string; xml: string; code: string }[] = [
  { name: 'not XML at all', xml: 'hello', code: 'XML_MALFORMED' },
  { name: 'empty document', xml: '', code: 'XML_TRUNCATED' },
  { name: 'mismatched end tag', xml: doc('<Get><CmdID>1</CmdID></Got>'), code: 'XML_MISMATCHED_TAG' },
  { name: 'document cut in the middle', xml: doc('<Get><CmdID>1</CmdID>').slice(0, -30), code: 'XML_TRUNCATED' },
  { name: 'unknown entity', xml: doc('<Alert><CmdID>1</CmdID><Data>&bogus;</Data></Alert>'), code: 'XML_UNKNOWN_ENTITY' },
  {
    name: 'character reference to a surrogate',
    xml: doc('<Alert><CmdID>1</CmdID><Correlator>&#xD800;</Correlator></Alert>'),
    code: 'XML_MALFORMED',
  },
  {
    name: 'a raw control character in text (found by the DM endpoint fuzz)',
    xml: doc('<Alert><CmdID>1</CmdID><Correlator>a\u0003b</Correlator></Alert>'),
    code: 'XML_MALFORMED',
  },
  {
    name: 'a control character by reference',
    xml: doc('<Alert><CmdID>1</CmdID><Correlator>&#3;</Correlator></Alert>'),
    code: 'XML_MALFORMED',
  },
  {
    name: 'U+FFFF in CDATA',
    xml: doc('<Alert><CmdID>1</CmdID><Correlator><![CDATA[\uffff]]></Correlator></Alert>'),
    code: 'XML_MALFORMED',
  },
  { name: 'unquoted attribute', xml: '<SyncML xmlns=SYNCML:SYNCML1.2></SyncML>', code: 'XML_MALFORMED' },
  { name: 'a second root element', xml: `${doc('')}<SyncML/>`, code: 'XML_MALFORMED' },
  { name: 'Latin-1 encoding declared', xml: `<?xml version="1.0" encoding="ISO-8859-1"?>${doc('')}`, code: 'XML_UNSUPPORTED' },
  { name: 'root element other than SyncML', xml: '<SyncBody/>', code: 'DM_UNEXPECTED_ELEMENT' },
  { name: 'unknown element in a command', xml: doc('<Get><CmdID>1</CmdID><Bogus/></Get>'), code: 'DM_UNKNOWN_ELEMENT' },
  { name: 'Get without Item', xml: doc('<Get><CmdID>1</CmdID></Get>'), code: 'DM_MISSING_ELEMENT' },
  { name: 'command without CmdID', xml: doc('<Get><Item><Target><LocURI>./A</LocURI></Target></Item></Get>'), code: 'DM_MISSING_ELEMENT' },
  { name: 'Exec with two Items', xml: doc('<Exec><CmdID>1</CmdID><Item/><Item/></Exec>'), code: 'DM_BAD_VALUE' },
  { name: 'CmdID that is not a number', xml: doc('<Get><CmdID>one</CmdID><Item/></Get>'), code: 'DM_BAD_VALUE' },
  {
    name: 'Status code over 32 bits',
    xml: doc('<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>99999999999</Data></Status>'),
    code: 'DM_BAD_VALUE',
  },
  {
    name: 'invalid base64 in Format b64 Data',
    xml: doc('<Add><CmdID>1</CmdID><Meta><Format xmlns="syncml:metinf">b64</Format></Meta><Item><Data>*not b64*</Data></Item></Add>'),
    code: 'DM_BAD_VALUE',
  },
  { name: 'markup inside a text value', xml: doc('<Alert><CmdID>1<b/></CmdID></Alert>'), code: 'DM_UNEXPECTED_ELEMENT' },
  { name: 'text between commands', xml: doc('stray<Alert><CmdID>1</CmdID></Alert>'), code: 'DM_UNEXPECTED_TEXT' },
  { name: 'SyncHdr without MsgID', xml: `<SyncML>${HDR.replace('<MsgID>1</MsgID>', '')}<SyncBody/></SyncML>`, code: 'DM_MISSING_ELEMENT' },
  {
    name: 'nesting past the depth limit',
    xml: doc('<Sequence><CmdID>1</CmdID>'.repeat(40) + '</Sequence>'.repeat(40)),
    code: 'DM_TOO_DEEP',
  },
];

for (const v of badXml) {
  test(`XML with ${v.name} is refused with ${v.code}`, () => {
    assert.throws(
      () => decodeXml(v.xml),
      (err: unknown) => err instanceof DecodeError && err.code === v.code && err.offset >= 0,
    );
  });
}

test('an XML message over the size limit is refused before parsing', () => {
  assert.throws(() => decodeXml(doc(''), { maxBytes: 100 }), { code: 'DM_TOO_LARGE' });
});

test('XML that is not valid UTF-8 is refused', () => {
  assert.throws(() => decodeXml(Uint8Array.of(0x3c, 0xff, 0xfe, 0x3e)), { code: 'XML_MALFORMED' });
});

const minimal: Message = decodeXml(doc('<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>'));
const good = encodeWbxml(minimal);

test('every truncation of a WBXML message is refused with WBXML_TRUNCATED', () => {
  for (let n = 0; n < good.length; n++) {
    assert.throws(
      () => decodeWbxml(good.subarray(0, n)),
      (err: unknown) => err instanceof DecodeError && err.code === 'WBXML_TRUNCATED',
      `prefix of ${n} bytes`,
    );
  }
});

const badWbxml: { name: string; bytes: number[]; code: string; offset: number }[] = [
  { name: 'an unknown token on code page 0', bytes: [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x3f], code: 'WBXML_UNKNOWN_TOKEN', offset: 5 },
  { name: 'a LITERAL tag', bytes: [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x04, 0x00], code: 'WBXML_UNKNOWN_TOKEN', offset: 5 },
  { name: 'a tag with attributes', bytes: [0x02, 0xa4, 0x01, 0x6a, 0x00, 0xed], code: 'WBXML_UNKNOWN_TOKEN', offset: 5 },
  { name: 'a switch to code page 2', bytes: [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x00, 0x02, 0x6d], code: 'WBXML_UNKNOWN_CODE_PAGE', offset: 6 },
  {
    name: 'a string table reference past the table',
    bytes: [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x83, 0x05],
    code: 'WBXML_BAD_STRING_TABLE_REF',
    offset: 7,
  },
  { name: 'END with nothing open', bytes: [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x01], code: 'WBXML_UNKNOWN_TOKEN', offset: 5 },
  { name: 'text outside the root', bytes: [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x03, 0x41, 0x00], code: 'WBXML_UNKNOWN_TOKEN', offset: 5 },
  {
    name: 'an ENTITY that is no character',
    bytes: [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x02, 0x8f, 0xff, 0xff, 0xff, 0x7f],
    code: 'WBXML_BAD_INTEGER',
    offset: 7,
  },
];

for (const v of badWbxml) {
  test(`WBXML with ${v.name} is refused with ${v.code} at byte ${v.offset}`, () => {
    assert.throws(() => decodeWbxml(Uint8Array.from(v.bytes)), { code: v.code, offset: v.offset });
  });
}

test('bytes after the WBXML root element are refused', () => {
  assert.throws(() => decodeWbxml(Uint8Array.of(...good, 0x00)), { code: 'WBXML_TRAILING_BYTES', offset: good.length });
});

test('WBXML nesting past the depth limit is refused', () => {
  const deep = [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x6b, ...new Array<number>(40).fill(0x64)]; // SyncML, SyncBody, Sequence…
  assert.throws(() => decodeWbxml(Uint8Array.from(deep)), { code: 'DM_TOO_DEEP' });
});

// --- lenient decoding of what real peers send ---

test('Alert with Correlator before Data (SyncMLRTK order) is accepted', () => {
  const m = decodeXml(doc('<Alert><CmdID>4</CmdID><Correlator>c1</Correlator><Data>1226</Data></Alert>'));
  assert.deepStrictEqual(m.body.commands[0], { kind: 'Alert', cmdId: 4, data: 1226, correlator: 'c1', items: [] });
});

test('MetInf elements with a namespace prefix or no xmlns at all are read', () => {
  const m = decodeXml(
    `<SyncML xmlns="SYNCML:SYNCML1.2" xmlns:mi="syncml:metinf">${HDR.replace('</SyncHdr>', '<Meta><mi:MaxMsgSize>3500</mi:MaxMsgSize><MaxObjSize>9</MaxObjSize></Meta></SyncHdr>')}<SyncBody/></SyncML>`,
  );
  assert.deepStrictEqual(m.hdr.meta, { maxMsgSize: 3500, maxObjSize: 9 });
});

test('Cred inside a command and DS-only MetInf are skipped with a warning', () => {
  const warnings: DecodeWarning[] = [];
  const m = decodeXml(doc('<Get><CmdID>1</CmdID><Cred><Data>x</Data></Cred><Meta><Mem><FreeMem>1</FreeMem></Mem></Meta><Item/></Get>'), {
    onWarning: (w) => warnings.push(w),
  });
  assert.deepStrictEqual(m.body.commands[0], { kind: 'Get', cmdId: 1, meta: {}, items: [{}] });
  assert.deepStrictEqual(
    warnings.map((w) => w.code),
    ['DM_SKIPPED_ELEMENT', 'DM_SKIPPED_ELEMENT'],
  );
});

test('a DS-only command (Sync) becomes Unsupported so a session can answer 406', () => {
  const m = decodeXml(doc('<Sync><CmdID>9</CmdID><Target><LocURI>x</LocURI></Target></Sync>'));
  assert.deepStrictEqual(m.body.commands[0], { kind: 'Unsupported', name: 'Sync', cmdId: 9 });
});

test('a WBXML empty element written as token|0x40 followed by END is accepted', () => {
  const at = good.lastIndexOf(0x12); // Final, then END END
  const withContentBit = Uint8Array.of(...good.subarray(0, at), 0x52, 0x01, ...good.subarray(at + 1));
  assert.deepStrictEqual(decodeWbxml(withContentBit), minimal);
});

test('CRLF in XML text reads as LF, and a CR written by us survives the trip', () => {
  const m = decodeXml(doc('<Alert><CmdID>1</CmdID><Correlator>a\r\nb</Correlator></Alert>'));
  assert.equal((m.body.commands[0] as { correlator: string }).correlator, 'a\nb');
});
