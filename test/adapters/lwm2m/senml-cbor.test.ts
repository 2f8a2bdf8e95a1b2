// SenML CBOR (content format 112): the RFC 8428 §6 example byte for byte, typed values both ways,
// and garbage is a format error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

import { decodePayload, encodePayload } from '../../../src/adapters/lwm2m/codec.ts';
import { ContentFormat, Lwm2mFormatError, type ResourceValue } from '../../../src/adapters/lwm2m/model.ts';
import { decodeCborRecords, encodeCborRecords } from '../../../src/adapters/lwm2m/senml-cbor.ts';

// RFC 8428 §6: the two-record voltage/current pack of §5.1.2 in CBOR
const RFC8428 =
  '82a421781b75726e3a6465763a6f773a31306532303733613031303830303633' +
  '00677 66f6c7461676501615602fb405e066666666666a3006763757272656e7401614102fb3ff3333333333333'.replace(/ /g, '');

test('SenML CBOR: the RFC 8428 example decodes to its records and encodes back to the same bytes', () => {
  const records = decodeCborRecords(Buffer.from(RFC8428, 'hex'));
  assert.deepEqual(records, [
    { bn: 'urn:dev:ow:10e2073a01080063', n: 'voltage', u: 'V', v: 120.1 },
    { n: 'current', u: 'A', v: 1.2 },
  ]);
  assert.equal(Buffer.from(encodeCborRecords(records)).toString('hex'), RFC8428);
});

test('SenML CBOR: values keep their type (v, vs, vb, vd, vlo), also for an object gwmo has no model of', () => {
  const at = (r: number) => ({ objectId: 32769, instanceId: 0, resourceId: r });
  const values: ResourceValue[] = [
    { path: at(1), value: 3800 },
    { path: at(2), value: -30.5 },
    { path: at(3), value: true },
    { path: at(4), value: Uint8Array.of(0, 255) },
    { path: at(5), value: { objectId: 3, instanceId: 0 } },
    { path: at(6), value: '3800' },
  ];
  const bytes = encodePayload(ContentFormat.SenmlCbor, values);
  assert.deepEqual(decodePayload(ContentFormat.SenmlCbor, bytes, { objectId: 32769, instanceId: 0 }), values);
  // each value in its own SenML field
  const records = decodeCborRecords(bytes);
  assert.deepEqual(
    records.map((r) => Object.keys(r).filter((k) => k !== 'bn' && k !== 'n')[0]),
    ['v', 'v', 'vb', 'vd', 'vlo', 'vs'],
  );
  fc.assert(
    fc.property(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), (n, f, s) => {
      const vs: ResourceValue[] = [
        { path: at(1), value: n },
        { path: at(2), value: f },
        { path: at(6), value: s },
      ];
      assert.deepEqual(
        decodePayload(ContentFormat.SenmlCbor, encodePayload(ContentFormat.SenmlCbor, vs), { objectId: 32769 }).map((v) => v.value),
        [n, f, s],
      );
    }),
    { numRuns: 200 },
  );
});

test('SenML CBOR: malformed payloads are format errors, never a crash', () => {
  for (const hex of ['', 'ff', 'a0', '81a1', '81a10063', '81a1006132', '81a2006a2f33332f302f35373030 0263'.replace(/ /g, '')]) {
    assert.throws(() => decodePayload(ContentFormat.SenmlCbor, Buffer.from(hex, 'hex'), { objectId: 3 }), Lwm2mFormatError, hex);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => {
      try {
        decodePayload(ContentFormat.SenmlCbor, bytes, { objectId: 3, instanceId: 0 });
      } catch (err) {
        assert.ok(err instanceof Lwm2mFormatError, String(err));
      }
    }),
    { numRuns: 500 },
  );
});
