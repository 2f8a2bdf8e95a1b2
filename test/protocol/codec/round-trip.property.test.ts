import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

import { decodeWbxml, encodeWbxml } from '../../../src/protocol/wbxml/index.ts';
import { decodeXml, encodeXmlString } from '../../../src/protocol/xml/index.ts';
import { message } from '../../support/arbitrary-message.ts';

const runs = Number(process.env['GWMO_PROPERTY_RUNS'] ?? 1000);

test('XML → model → WBXML → model → XML gives back the same model and the same XML', () => {
  fc.assert(
    fc.property(message(), (msg) => {
      const xml = encodeXmlString(msg);
      const fromXml = decodeXml(xml);
      assert.deepStrictEqual(fromXml, msg);
      const fromWbxml = decodeWbxml(encodeWbxml(fromXml));
      assert.deepStrictEqual(fromWbxml, msg);
      assert.equal(encodeXmlString(fromWbxml), xml);
    }),
    { numRuns: runs },
  );
});

test('WBXML round trip keeps arbitrary binary data of Format bin byte for byte', () => {
  fc.assert(
    fc.property(message(false), (msg) => {
      assert.deepStrictEqual(decodeWbxml(encodeWbxml(msg)), msg);
    }),
    { numRuns: runs },
  );
});

test('every WBXML version byte (1.1, 1.2, 1.3) decodes to the same model', () => {
  fc.assert(
    fc.property(message(), fc.constantFrom(1 as const, 2 as const, 3 as const), (msg, version) => {
      assert.deepStrictEqual(decodeWbxml(encodeWbxml(msg, { version })), msg);
    }),
    { numRuns: Math.ceil(runs / 4) },
  );
});
