// The shared WBXML vectors (spec digest §12, vectors/README.md), copied unchanged into
// test/vectors/wbxml/: made with libwbxml 0.11.8 from the .xml beside them, except 06, a real DM 1.2
// server message from the AOSP OMA-DM test suite whose .decoded.xml is what wbxml2xml printed.
// Each .hex must decode to the model our XML decoder gives for its XML.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { decodeWbxml, decodeXml } from '../../../src/protocol/index.ts';

const DIR = new URL('../../vectors/wbxml/', import.meta.url);

const vectors = [
  {
    hex: '01-pkg1-minimal-alert.wbxml12.hex',
    xml: '01-pkg1-minimal-alert.xml',
    bytes: 122,
    what: 'smallest Pkg1, WBXML 1.2 (annotated in §7.7)',
  },
  { hex: '01-pkg1-minimal-alert.wbxml11.hex', xml: '01-pkg1-minimal-alert.xml', bytes: 122, what: 'the same as WBXML 1.1' },
  { hex: '01-pkg1-minimal-alert.wbxml13.hex', xml: '01-pkg1-minimal-alert.xml', bytes: 122, what: 'the same as WBXML 1.3' },
  {
    hex: '02-pkg1-client-init-md5.strtbl.hex',
    xml: '02-pkg1-client-init-md5.xml',
    bytes: 398,
    what: 'Pkg1 with MD5 Cred, string table (the HMAC vector body)',
  },
  {
    hex: '02-pkg1-client-init-md5.nostrtbl.hex',
    xml: '02-pkg1-client-init-md5.xml',
    bytes: 397,
    what: 'Pkg1 with MD5 Cred, no string table',
  },
  {
    hex: '03-pkg2-server-chal-get-replace.strtbl.hex',
    xml: '03-pkg2-server-chal-get-replace.xml',
    bytes: 390,
    what: 'server reply, string table: STR_T, STR_T+STR_I, OPAQUE Data',
  },
  {
    hex: '03-pkg2-server-chal-get-replace.nostrtbl.hex',
    xml: '03-pkg2-server-chal-get-replace.xml',
    bytes: 472,
    what: 'server reply, no string table',
  },
  {
    hex: '04-add-chunk-opaque-moredata.wbxml12.hex',
    xml: '04-add-chunk-opaque-moredata.xml',
    bytes: 151,
    what: 'large-object chunk: OPAQUE bin Data, MoreData, no Final',
  },
  {
    hex: '05-results-empty-interior-node.wbxml12.hex',
    xml: '05-results-empty-interior-node.xml',
    bytes: 122,
    what: 'empty Data as the single token 0f',
  },
  {
    hex: '06-realworld-aosp-dm12-server-get.hex',
    xml: '06-realworld-aosp-dm12-server-get.decoded.xml',
    bytes: 437,
    what: 'AOSP message: literal 1.1 public id without NUL, VerDTD 1.2',
  },
] as const;

function hexBytes(name: string): Uint8Array {
  const text = readFileSync(new URL(name, DIR), 'utf8');
  // README: one line of lowercase hex, no spaces, then a newline
  assert.match(text, /^(?:[0-9a-f]{2})+\n$/, `${name} is one line of lowercase hex`);
  return new Uint8Array(Buffer.from(text.trim(), 'hex'));
}

for (const v of vectors) {
  test(`${v.hex} (${v.what}) decodes to the model of ${v.xml}`, () => {
    const bytes = hexBytes(v.hex);
    assert.equal(bytes.length, v.bytes, 'length given in vectors/README.md');
    assert.deepStrictEqual(decodeWbxml(bytes), decodeXml(readFileSync(new URL(v.xml, DIR))));
  });
}

test('the WBXML 1.1 and 1.3 forms of vector 01 differ from 1.2 only in the version byte', () => {
  const v12 = hexBytes('01-pkg1-minimal-alert.wbxml12.hex');
  for (const [name, version] of [
    ['01-pkg1-minimal-alert.wbxml11.hex', 0x01],
    ['01-pkg1-minimal-alert.wbxml13.hex', 0x03],
  ] as const) {
    const other = hexBytes(name);
    assert.equal(other[0], version);
    assert.deepEqual(other.subarray(1), v12.subarray(1));
  }
});

test('every shared vector file is in the table above', () => {
  const listed = new Set<string>(vectors.flatMap((v) => [v.hex, v.xml]));
  assert.deepEqual(
    readdirSync(DIR).filter((f) => !listed.has(f)),
    [],
  );
});
