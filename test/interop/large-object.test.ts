// A device that answers 200 to a large-object chunk that is not the last (it has no large-object
// support and keeps the first chunk as the value): the operation fails with a status and a reason
// that say so, directly and behind a gateway, where the fanout counts it as failed.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { startPair } from '../support/dm-pair.ts';
import { GW_ID, startGateway, startServer, lanDevice } from '../support/gw-pair.ts';

const BIG = 'n'.repeat(5000);

test('direct: 200 to the first chunk fails the Add with 406 and the reason; nothing more is sent', async (t) => {
  const p = await startPair({ deviceMaxMsgSize: 2048, quirks: { chunkAnsweredOk: true } });
  t.after(() => p.close());
  const add = await p.server.service.queue(p.deviceId, { kind: 'Add', path: './BigNote', value: BIG });
  const after = await p.server.service.queue(p.deviceId, { kind: 'Get', path: './DevInfo/Mod' });
  const last = await p.server.service.queue(p.deviceId, { kind: 'Add', path: './BigNote2', value: BIG });
  assert.equal((await p.agent.session()).end, 'done');
  const op = await p.server.service.operation(add.id);
  assert.deepEqual([op.state, op.status], ['failed', 406]);
  assert.match(op.note ?? '', /answered 200 to a large-object chunk that was not the last: it does not support large objects/);
  const held = p.tree.read('./BigNote');
  assert.ok(typeof held === 'string' && held.length < BIG.length, 'what the device holds is the truncated value the operation warns of');
  assert.equal((await p.server.service.operation(after.id)).status, 200, 'the session goes on with the next operation');
  assert.equal((await p.server.service.operation(last.id)).status, 406, 'and ends after a last object that fails the same way');
});

test('behind a gateway: the fanout counts the device without large objects as failed (406), the other as done', async (t) => {
  const srv = await startServer();
  t.after(() => srv.close());
  const gw = await startGateway(srv.url);
  t.after(() => gw.close());
  const devices = await Promise.all(
    [{ chunkAnsweredOk: true }, undefined].map(async (quirks, i) => {
      const d = new DmDevice(lanDevice(gw.gateway.lanUrl, `IMEI:LO${i}`, { maxMsgSize: 2048, ...(quirks ? { quirks } : {}) }));
      await d.start();
      await d.session();
      return d;
    }),
  );
  t.after(async () => {
    for (const d of devices) await d.stop();
  });
  await gw.gateway.checkIn();
  const api = srv.url.replace(/\/dm$/, '/api');
  const gid = encodeURIComponent(GW_ID);
  const done = srv.alertOf('resultaggregation');
  const res = await fetch(`${api}/gateways/${gid}/fanouts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'big',
      devices: ['IMEI:LO0', 'IMEI:LO1'],
      commands: [{ kind: 'Replace', path: './Vendor/gwmo/Note', value: BIG }],
    }),
  });
  assert.equal(res.status, 202, await res.clone().text());
  await done;
  const job = (await (await fetch(`${api}/gateways/${gid}/fanouts/big`)).json()) as {
    Progress: Record<string, string>;
    Aggregate: Record<string, string>;
  };
  assert.deepEqual(job.Progress, { Total: '2', Done: '2', Succeeded: '1', Failed: '1', InDoubt: '0' });
  assert.deepEqual(job.Aggregate, { 200: '1', 406: '1' });
  assert.equal(devices[1]!.tree.read('./Vendor/gwmo/Note'), BIG, 'the device with large objects got all of it');
  const failed = (await gw.south.listOperations('IMEI:LO0'))[0]!;
  assert.match(failed.note ?? '', /does not support large objects/, 'the gateway keeps the reason');
});
