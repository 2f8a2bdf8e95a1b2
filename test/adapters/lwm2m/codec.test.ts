// LwM2M payload formats: TLV (with the TS's own examples), SenML JSON, text, link format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

import { decodePayload, encodePayload } from '../../../src/adapters/lwm2m/codec.ts';
import { formatLinks, parseLinks } from '../../../src/adapters/lwm2m/link.ts';
import { ContentFormat, Lwm2mFormatError, parsePath } from '../../../src/adapters/lwm2m/model.ts';
import { decodeTlv, encodeTlv } from '../../../src/adapters/lwm2m/tlv.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('TLV: the TS examples (Manufacturer string, Available Power Sources multiple resource)', () => {
  // Device object resource 0 "Open Mobile Alliance": C8 00 14 + 20 bytes (8-bit length follows)
  const man = encodePayload(ContentFormat.Tlv, [{ path: { objectId: 3, instanceId: 0, resourceId: 0 }, value: 'Open Mobile Alliance' }]);
  assert.equal(hex(man.subarray(0, 3)), 'c80014');
  // resource 6 with instances 0 = 1 and 1 = 5: 86 06 41 00 01 41 01 05
  const power = encodePayload(ContentFormat.Tlv, [
    { path: { objectId: 3, instanceId: 0, resourceId: 6, resourceInstanceId: 0 }, value: 1 },
    { path: { objectId: 3, instanceId: 0, resourceId: 6, resourceInstanceId: 1 }, value: 5 },
  ]);
  assert.equal(hex(power), '8606410001410105');
  const back = decodePayload(ContentFormat.Tlv, power, { objectId: 3, instanceId: 0 });
  assert.deepEqual(
    back.map((v) => [v.path.resourceInstanceId, v.value]),
    [
      [0, 1],
      [1, 5],
    ],
  );
  // 16-bit ids and 16-bit lengths
  const big = encodeTlv([{ kind: 3, id: 5700, value: new Uint8Array(300) }]);
  assert.equal(hex(big.subarray(0, 5)), 'f01644012c'.slice(0, 10)); // 11 1 10 000: resource, 16-bit id, 16-bit length
  assert.deepEqual(decodeTlv(big)[0]!.id, 5700);
  assert.equal(decodeTlv(big)[0]!.value!.length, 300);
});

test('TLV round trip of typed values, and malformed TLV is a format error, never a crash', () => {
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.string(), fc.double({ noNaN: true }), fc.boolean(), (n, s, f, b) => {
      const values = [
        { path: { objectId: 3303, instanceId: 0, resourceId: 5700 }, value: f },
        { path: { objectId: 3303, instanceId: 0, resourceId: 5701 }, value: s },
        { path: { objectId: 3, instanceId: 0, resourceId: 9 }, value: n },
      ];
      const back3303 = decodePayload(ContentFormat.Tlv, encodePayload(ContentFormat.Tlv, values.slice(0, 2)), {
        objectId: 3303,
        instanceId: 0,
      });
      assert.deepEqual(
        back3303.map((v) => v.value),
        [f, s],
      );
      const back3 = decodePayload(ContentFormat.Tlv, encodePayload(ContentFormat.Tlv, values.slice(2)), { objectId: 3, instanceId: 0 });
      assert.deepEqual(
        back3.map((v) => v.value),
        [n],
      );
      const boolBack = decodePayload(
        ContentFormat.Tlv,
        encodePayload(ContentFormat.Tlv, [{ path: { objectId: 1, instanceId: 0, resourceId: 6 }, value: b }]),
        { objectId: 1, instanceId: 0 },
      );
      assert.equal(boolBack[0]!.value, b);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      try {
        decodePayload(ContentFormat.Tlv, bytes, { objectId: 3, instanceId: 0 });
      } catch (err) {
        assert.ok(err instanceof Lwm2mFormatError, String(err));
      }
    }),
    { numRuns: 2000 },
  );
  // found by the property above in CI: a multiple resource whose child is not a resource instance
  assert.throws(
    () => decodePayload(ContentFormat.Tlv, Buffer.from('a4000000000000', 'hex'), { objectId: 3, instanceId: 0 }),
    Lwm2mFormatError,
  );
});

test('TLV floats go in 4 bytes when exact (a reader of 4-byte floats only gets them right), else 8', () => {
  const bytes = (value: number): Buffer =>
    Buffer.from(encodePayload(ContentFormat.Tlv, [{ path: { objectId: 3303, instanceId: 0, resourceId: 5700 }, value }]));
  // type byte 0xe4: resource, 16-bit id, 4 bytes of value; 0xe8 + length byte 8: 8 bytes
  assert.equal(bytes(3.5).toString('hex'), 'e4164440600000');
  assert.equal(bytes(-30).toString('hex'), 'e41644c1f00000');
  assert.equal(bytes(0.1).toString('hex'), 'e8164408' + '3fb999999999999a');
  assert.equal(Buffer.from(bytes(3.5)).subarray(3).readFloatBE(), 3.5, 'what coap-node reads');
});

test('SenML JSON and text/plain', () => {
  const values = [
    { path: { objectId: 3303, instanceId: 0, resourceId: 5700 }, value: 21.5 },
    { path: { objectId: 3303, instanceId: 0, resourceId: 5701 }, value: 'Cel' },
    { path: { objectId: 5, instanceId: 0, resourceId: 0 }, value: Uint8Array.of(1, 2, 255) },
  ];
  const json = encodePayload(ContentFormat.SenmlJson, values);
  assert.equal(
    Buffer.from(json).toString(),
    '[{"bn":"","n":"/3303/0/5700","v":21.5},{"n":"/3303/0/5701","vs":"Cel"},{"n":"/5/0/0","vd":"AQL_"}]',
  );
  assert.deepEqual(decodePayload(ContentFormat.SenmlJson, json, { objectId: 3303 }), values);
  assert.throws(() => decodePayload(ContentFormat.SenmlJson, new TextEncoder().encode('{"n":1}'), { objectId: 3 }), Lwm2mFormatError);
  assert.deepEqual(
    decodePayload(ContentFormat.Text, new TextEncoder().encode('42'), { objectId: 3, instanceId: 0, resourceId: 9 })[0]!.value,
    42,
  );
  assert.throws(
    () => decodePayload(ContentFormat.Text, new TextEncoder().encode('many'), { objectId: 3, instanceId: 0, resourceId: 9 }),
    Lwm2mFormatError,
  );
  assert.throws(() => decodePayload(9999, new Uint8Array(1), { objectId: 3 }), /not supported/);
});

test('link format and paths', () => {
  const links = parseLinks('</>;rt="oma.lwm2m",</1/0>,</3/0>;ver=1.1,</3303/0>');
  assert.deepEqual(
    links.map((l) => l.path),
    [{ objectId: -1 }, { objectId: 1, instanceId: 0 }, { objectId: 3, instanceId: 0 }, { objectId: 3303, instanceId: 0 }],
  );
  assert.equal(links[2]!.attributes['ver'], '1.1');
  assert.equal(formatLinks(links.slice(1)), '</1/0>,</3/0>;ver=1.1,</3303/0>');
  assert.throws(() => parseLinks('<a/b>'), Lwm2mFormatError);
  assert.deepEqual(parsePath('/3/0/1'), { objectId: 3, instanceId: 0, resourceId: 1 });
  assert.equal(parsePath('/3/x'), undefined);
  assert.equal(parsePath('/70000'), undefined);
});
