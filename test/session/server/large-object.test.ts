// Large objects with devices that do not do them, and Meta Format on every Item with Data.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Command, Item } from '../../../src/protocol/index.ts';
import { engineRig, sent, statusesFor } from '../../support/engine-rig.ts';

const SMALL = { meta: { maxMsgSize: 2048 } };
const itemOf = (c: Command | undefined): Item | undefined => (c && 'items' in c ? c.items[0] : undefined);

async function chunked() {
  const rig = await engineRig();
  const op = await rig.service.queue('IMEI:001', { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'x'.repeat(5000) });
  return { ...rig, op };
}

test('a device answering 200 to a non-last chunk: the operation fails 406 with the reason, no further chunk goes', async () => {
  const { store, session, op } = await chunked();
  const s = session();
  const m1 = await s.start([], SMALL);
  const chunk = itemOf(sent(m1)[0]);
  assert.equal(chunk?.moreData, true, 'a first chunk with MoreData');
  assert.equal(chunk?.meta?.size, 5000);
  const m2 = await s.send([...statusesFor(m1, 212, 200)], SMALL);
  assert.equal(sent(m2).length, 0, 'the rest of the object is not sent');
  const failed = (await store.getOperation(op.id))!;
  assert.deepEqual([failed.state, failed.status], ['failed', 406]);
  assert.match(failed.note ?? '', /answered 200 to a large-object chunk that was not the last: it does not support large objects/);
});

test('a device that said DevDetail/LrgObj false: a value too large for one message fails at once, nothing of it sent', async () => {
  const { service, store, session } = await engineRig();
  const get = await service.queue('IMEI:001', { kind: 'Get', path: './DevDetail/LrgObj' });
  const s = session();
  const m1 = await s.start([], SMALL);
  const g = sent(m1)[0]!;
  assert.equal(g.kind, 'Get');
  const big = await service.queue('IMEI:001', { kind: 'Add', path: './Vendor/gwmo/Big', value: 'y'.repeat(5000) });
  const m2 = await s.send(
    [
      ...statusesFor(m1, 212, 200),
      {
        kind: 'Results',
        cmdId: 0,
        msgRef: m1.hdr.msgId,
        cmdRef: g.cmdId,
        items: [{ source: { locUri: './DevDetail/LrgObj' }, meta: { format: 'bool' }, data: 'false' }],
      },
    ],
    SMALL,
  );
  assert.equal(sent(m2).length, 0, 'nothing of the object goes out');
  assert.equal((await store.getOperation(get.id))!.state, 'done');
  const failed = (await store.getOperation(big.id))!;
  assert.deepEqual([failed.state, failed.status], ['failed', 406]);
  assert.match(failed.note ?? '', /does not support large objects \(DevDetail\/LrgObj false\): nothing was sent/);
  assert.equal((await store.getDevice('IMEI:001'))!.sessionProfile?.deviceLrgObj, false, 'remembered for the next sessions');
});

test('a profile that allows no large objects: the value fails at once; one that fits still goes', async () => {
  const { service, store, session } = await engineRig({ profile: { largeObjects: false } });
  const big = await service.queue('IMEI:001', { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'z'.repeat(5000) });
  const small = await service.queue('IMEI:001', { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'fits' });
  const m1 = await session().start([], SMALL);
  assert.deepEqual(
    sent(m1).map((c) => itemOf(c)?.data),
    ['fits'],
  );
  assert.match((await store.getOperation(big.id))!.note ?? '', /the session profile allows no large objects/);
  assert.equal((await store.getOperation(small.id))!.state, 'sent');
});

test('Meta Format goes on every Item with Data (chr too); explicitFormat false leaves chr out unless the operation names it', async () => {
  const formats = async (profile: { explicitFormat?: boolean }) => {
    const { service, session } = await engineRig({ profile });
    await service.queue('IMEI:001', { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'plain' });
    await service.queue('IMEI:001', { kind: 'Replace', path: './Vendor/gwmo/Note', value: 'named', format: 'chr' });
    await service.queue('IMEI:001', { kind: 'Replace', path: './Vendor/gwmo/Settings/Interval', value: '30', format: 'int' });
    await service.queue('IMEI:001', { kind: 'Exec', path: './Vendor/gwmo/Run', value: 'go' });
    await service.queue('IMEI:001', { kind: 'Get', path: './DevInfo/Mod' });
    const m = await session().start();
    return sent(m).map((c) => (c.kind === 'Exec' ? c.item : itemOf(c))?.meta?.format ?? null);
  };
  assert.deepEqual(await formats({}), ['chr', 'chr', 'int', 'chr', null], 'by default (a Get carries no Data)');
  assert.deepEqual(await formats({ explicitFormat: false }), [null, 'chr', 'int', null, null]);
});
