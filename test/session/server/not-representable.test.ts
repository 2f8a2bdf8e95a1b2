// A queued value the device's encoding cannot carry (binary that is not text, in an XML session) is
// failed with 415 and a note saying what to do; the rest of the queue still goes out. Before, the
// encoder's error ended every session of the device and nothing queued behind it was ever sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEV, engineRig, sent } from '../../support/engine-rig.ts';

test('binary Data in an XML session: that operation fails with 415, the Get behind it is sent', async () => {
  const { service, store, session } = await engineRig();
  const bin = await service.queue(DEV, {
    kind: 'Replace',
    path: './Vendor/gwmo/Blob',
    value: Buffer.from([0xff, 0x00, 0xfe]).toString('base64'),
    format: 'bin',
  });
  const get = await service.queue(DEV, { kind: 'Get', path: './DevInfo/Mod' });
  const m1 = await session().start();
  assert.deepEqual(
    sent(m1).map((c) => c.kind),
    ['Get'],
  );
  const failed = (await store.getOperation(bin.id))!;
  assert.deepEqual([failed.state, failed.status], ['failed', 415]);
  assert.match(
    failed.note ?? '',
    /^not sent: the device's session is XML and binary Data of Format bin cannot be carried in XML; use Format b64/,
  );
  assert.equal((await store.getOperation(get.id))!.state, 'sent');
});

test('binary Data that is UTF-8 text still goes to an XML device as bin (CDATA)', async () => {
  const { service, store, session } = await engineRig();
  const op = await service.queue(DEV, {
    kind: 'Replace',
    path: './Vendor/gwmo/Blob',
    value: Buffer.from('text').toString('base64'),
    format: 'bin',
  });
  const m1 = await session().start();
  assert.deepEqual(
    sent(m1).map((c) => c.kind),
    ['Replace'],
  );
  assert.equal((await store.getOperation(op.id))!.state, 'sent');
});
