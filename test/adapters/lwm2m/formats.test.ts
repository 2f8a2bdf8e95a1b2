// The content format chosen per device from its registration: ct on the root link, the LwM2M
// version, single resources as text (opaque for opaque ones), refused formats left out.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { announcedFormats, candidateFormats, type DeviceFormats } from '../../../src/adapters/lwm2m/formats.ts';
import { parseLinks } from '../../../src/adapters/lwm2m/link.ts';

const device = (links: string, version: string, refused: number[] = []): DeviceFormats => ({
  announced: announcedFormats(parseLinks(links)),
  version,
  refused: new Set(refused),
});
const instance = { objectId: 3303, instanceId: 0 };
const resource = { objectId: 3303, instanceId: 0, resourceId: 5700 };

test('ct on </> is read in both spellings (one value, or a quoted list); unknown formats are left out', () => {
  assert.deepEqual(announcedFormats(parseLinks('</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>')), [110]);
  assert.deepEqual(announcedFormats(parseLinks('</>;ct="60 110 112 11542",</3/0>')), [110, 112, 11542]);
  assert.deepEqual(announcedFormats(parseLinks('</1/0>,</3/0>')), []);
  assert.deepEqual(announcedFormats(parseLinks('</3/0>;ct=110')), [], "ct on an object link is not the device's");
});

test('the format per device: SenML for 1.1 clients that announce it, TLV for 1.0, text for one resource', () => {
  assert.deepEqual(candidateFormats(device('</>;ct=110', '1.1'), instance), [110]);
  assert.deepEqual(candidateFormats(device('</>;ct="110 112"', '1.2'), instance), [112, 110], 'SenML CBOR first, it is the compact one');
  assert.deepEqual(candidateFormats(device('</3/0>', '1.0'), instance), [11542]);
  assert.deepEqual(
    candidateFormats(device('</3/0>', '1.1'), instance),
    [11542, 112, 110],
    'nothing announced: TLV, then SenML on a refusal',
  );
  assert.deepEqual(candidateFormats(device('</>;ct=110', '1.1'), resource), [0, 110]);
  assert.deepEqual(
    candidateFormats(device('</>;ct=110', '1.1'), { objectId: 5, instanceId: 0, resourceId: 0 }),
    [42, 110],
    'opaque resource',
  );
  assert.deepEqual(
    candidateFormats(device('</>;ct=110', '1.1'), { objectId: 3, instanceId: 0, resourceId: 6 }),
    [110],
    'a multiple resource is several values',
  );
  assert.deepEqual(
    candidateFormats(device('</>;ct=110', '1.1'), { objectId: 3, instanceId: 0, resourceId: 6, resourceInstanceId: 1 }),
    [0, 110],
  );
  // a resource no model types: SenML (which carries the type) when announced; text before TLV (a TLV value without a type is bytes)
  const vendor = { objectId: 32769, instanceId: 0, resourceId: 1 };
  assert.deepEqual(candidateFormats(device('</>;ct="110 112"', '1.1'), vendor), [112, 110, 0]);
  assert.deepEqual(candidateFormats(device('</3/0>', '1.1'), vendor), [0, 11542, 112, 110]);
  assert.deepEqual(candidateFormats(device('</3/0>', '1.0'), vendor), [0, 11542]);
});

test('a refused format is not tried again, unless the device refused every one', () => {
  assert.deepEqual(candidateFormats(device('</3/0>', '1.1', [11542]), instance), [112, 110]);
  assert.deepEqual(candidateFormats(device('</>;ct=110', '1.1', [0]), resource), [110]);
  assert.deepEqual(candidateFormats(device('</>;ct=110', '1.1', [110]), instance), [110]);
});
