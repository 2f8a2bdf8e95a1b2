// Object models from the OMA LwM2M registry (the @nordicsemiconductor/lwm2m-types package), the
// hand-written entries over them, and values of objects no model covers keeping their own type.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decodePayload, encodePayload } from '../../../src/adapters/lwm2m/codec.ts';
import { ContentFormat } from '../../../src/adapters/lwm2m/model.ts';
import { objectDef, resourceDef } from '../../../src/adapters/lwm2m/objects.ts';
import { registryObjects } from '../../../src/adapters/lwm2m/registry.ts';

test('every registered object has a model: names, types, multiplicity from the registry', () => {
  assert.ok(registryObjects().size > 250, `${registryObjects().size} objects`);
  const light = objectDef(3311)!;
  assert.equal(light.name, 'Light Control');
  assert.equal(light.multiple, true);
  assert.deepEqual(
    [5850, 5851, 5706, 5805].map((r) => [resourceDef(3311, r)?.name, resourceDef(3311, r)?.type]),
    [
      ['On/Off', 'boolean'],
      ['Dimmer', 'integer'],
      ['Colour', 'string'],
      ['Cumulative active power', 'float'],
    ],
  );
  assert.equal(resourceDef(3300, 5700)?.type, 'float');
  assert.equal(resourceDef(3, 13)?.type, 'time');
  assert.equal(resourceDef(3, 22)?.type, 'objlnk');
  assert.equal(resourceDef(3, 7)?.multiple, true, 'Power Source Voltage is a multiple resource');
  assert.equal(objectDef(3)!.multiple, false);
});

test('the hand-written entries fill what the package drops: object 0, executables, operations, opaque', () => {
  assert.equal(objectDef(0)?.name, 'LwM2M Security');
  assert.deepEqual([resourceDef(3, 4)?.type, resourceDef(3, 4)?.operations], ['none', 'E']);
  assert.equal(resourceDef(5, 0)?.type, 'opaque');
  assert.equal(resourceDef(3, 0)?.operations, 'R');
  assert.equal(resourceDef(3, 20)?.name, 'Battery Status', 'registry resources of a hand-written object are there too');
  assert.equal(resourceDef(3, 20)?.operations, '', 'the package does not say');
  assert.equal(objectDef(32769), undefined);
});

test('registry types reach the wire: a TLV read of 3311 is typed, and numbers of an unmodelled object are not ASCII', () => {
  const at = (o: number, r: number) => ({ objectId: o, instanceId: 0, resourceId: r });
  const tlv = encodePayload(ContentFormat.Tlv, [
    { path: at(3311, 5850), value: true },
    { path: at(3311, 5851), value: 40 },
    { path: at(3311, 5805), value: 1.5 },
  ]);
  assert.deepEqual(
    decodePayload(ContentFormat.Tlv, tlv, { objectId: 3311, instanceId: 0 }).map((v) => v.value),
    [true, 40, 1.5],
  );
  // 3800 for an object no model covers: a 2-byte integer (C2 01 0E D8), not the ASCII "3800"; -30.5 a
  // float (4 bytes: it is exact in 32 bits), -30.1 an 8-byte float
  const unknown = encodePayload(ContentFormat.Tlv, [
    { path: at(32769, 1), value: 3800 },
    { path: at(32769, 2), value: -30.5 },
    { path: at(32769, 3), value: 'x' },
    { path: at(32769, 4), value: -30.1 },
  ]);
  assert.equal(
    Buffer.from(unknown).toString('hex'),
    `c2010ed8c402c1f40000c10378c804${'08'}${Buffer.from(Float64Array.of(-30.1).buffer).reverse().toString('hex')}`,
  );
  // SenML JSON keeps the device's types for an unmodelled object: "v":3800 stays a number
  const json = Buffer.from(
    encodePayload(
      ContentFormat.SenmlJson,
      decodePayload(
        ContentFormat.SenmlJson,
        new TextEncoder().encode('[{"bn":"/32769/0/","n":"1","v":3800},{"n":"2","v":-30.0},{"n":"3","vb":false}]'),
        { objectId: 32769 },
      ),
    ),
  ).toString();
  assert.equal(json, '[{"bn":"","n":"/32769/0/1","v":3800},{"n":"/32769/0/2","v":-30},{"n":"/32769/0/3","vb":false}]');
});

test("a DM value for a resource no model covers is typed by the item's Format, and a bad one is a format error", async () => {
  const { toValue } = await import('../../../src/adapters/lwm2m/operations.ts');
  const at = { objectId: 32769, instanceId: 0, resourceId: 1 };
  assert.deepEqual(
    ['int', 'float', 'bool', 'chr', undefined].map((f) => toValue(f === 'bool' ? 'true' : '3800', at, f)),
    [3800, 3800, true, '3800', '3800'],
  );
  assert.equal(toValue('40', { objectId: 3311, instanceId: 0, resourceId: 5851 }, 'chr'), 40, 'the registry type wins over the Format');
  assert.throws(() => toValue('maybe', { objectId: 3311, instanceId: 0, resourceId: 5850 }), /not a boolean/);
  assert.throws(() => toValue('3.5.1', at, 'float'), /not a number/);
});
