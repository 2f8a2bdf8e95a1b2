// The shared WBXML vectors (made with libwbxml 0.11.8; one taken from the AOSP test suite): each
// .hex decodes to the model of its .xml.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { decodeWbxml, decodeXml } from '../../../src/protocol/index.ts';

const DIR = new URL('../../vectors/wbxml/', import.meta.url);
const hexFiles = readdirSync(DIR).filter((f) => f.endsWith('.hex')).sort();

for (const hex of hexFiles) {
  test(`${hex} decodes like its XML`, () => {
    const base = hex.replace(/\.(wbxml1[123]|strtbl|nostrtbl)?\.?hex$/, '').replace(/\.$/, '');
    const xmlName = readdirSync(DIR).find((f) => f.startsWith(base) && f.endsWith('.xml'))!;
    const bytes = new Uint8Array(Buffer.from(readFileSync(new URL(hex, DIR), 'utf8').trim(), 'hex'));
    assert.deepEqual(decodeWbxml(bytes), decodeXml(readFileSync(new URL(xmlName, DIR))));
  });
}

test('every shared vector is covered', () => {
  assert.equal(hexFiles.length, 10);
});
