// A per-device session profile, and a device that drops a session with commands unanswered: what it
// can be sent again goes back to the queue at once, what may have run is in doubt with the reason, and
// the next session sends fewer commands per message.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { SessionSummary } from '../../../src/session/server/index.ts';
import { DEV, engineRig, sent } from '../../support/engine-rig.ts';

async function queueGets(service: Awaited<ReturnType<typeof engineRig>>['service'], n: number) {
  return Promise.all(Array.from({ length: n }, (_, i) => service.queue(DEV, { kind: 'Get', path: `./Vendor/gwmo/N${i}` })));
}

test('commandsPerMessage caps each message; the rest follows in the next ones', async () => {
  const { service, session } = await engineRig({ profile: { commandsPerMessage: 3 } });
  await queueGets(service, 5);
  const m1 = await session().start();
  assert.equal(sent(m1).length, 3);
});

test('a device that aborts mid-session: Gets are queued again at once, an Add is in doubt, and the next session sends half as many', async () => {
  const ends: SessionSummary[] = [];
  const { service, store, session } = await engineRig({ events: { sessionEnded: (_d, _o, summary) => summary && ends.push(summary) } });
  const gets = await queueGets(service, 4);
  const add = await service.queue(DEV, { kind: 'Add', path: './Vendor/gwmo/New', value: 'v' });
  const s = session();
  const m1 = await s.start();
  assert.equal(sent(m1).length, 5);
  await s.send([{ kind: 'Alert', cmdId: 0, data: 1223, items: [] }]);
  for (const g of gets) {
    const op = (await store.getOperation(g.id))!;
    assert.deepEqual([op.state, op.note], ['queued', 'the device dropped the session before answering; queued again']);
  }
  const a = (await store.getOperation(add.id))!;
  assert.deepEqual([a.state, a.status], ['indoubt', undefined]);
  assert.match(
    a.note ?? '',
    /^sent in session \S+ at \d{4}-.*; no status received \(session aborted\): whether the Add ran is unknown, so it is not sent again/,
  );
  assert.deepEqual(
    ends.map((e) => [e.outcome, e.requeued, e.inDoubt, e.commandsPerMessage]),
    [['aborted', 4, 1, 2]],
  );
  assert.equal((await store.getDevice(DEV))!.sessionProfile?.effectiveCommandsPerMessage, 2, 'remembered on the device');
  assert.equal((await service.device(DEV)).sessionProfile?.effectiveCommandsPerMessage, 2);

  const m2 = await session().start();
  assert.equal(sent(m2).length, 2, 'the next session sends fewer per message');
  assert.equal((await store.listOperations(DEV)).length, 5, 'nothing added: the same operations');
});

test('a device that starts a new session over an unanswered one: its Gets go out again in the new session', async () => {
  const { service, store, session } = await engineRig();
  const gets = await queueGets(service, 2);
  await session().start();
  assert.deepEqual(await Promise.all(gets.map(async (g) => (await store.getOperation(g.id))!.state)), ['sent', 'sent']);
  const m2 = await session().start();
  assert.equal(sent(m2).length, 1, 'half of the 2 it left unanswered');
  assert.equal((await store.getDevice(DEV))!.sessionProfile?.effectiveCommandsPerMessage, 1);
});

test('setting commandsPerMessage through the API starts the learned back-off over', async () => {
  const { service, store } = await engineRig();
  await store.updateDevice(DEV, { sessionProfile: { effectiveCommandsPerMessage: 2, deviceLrgObj: true } });
  const { device } = await service.updateDevice(DEV, { sessionProfile: { commandsPerMessage: 10 } });
  assert.deepEqual(device.sessionProfile, { commandsPerMessage: 10, deviceLrgObj: true });
  const { device: d2 } = await service.updateDevice(DEV, { sessionProfile: { explicitFormat: false, commandsPerMessage: null } });
  assert.deepEqual(d2.sessionProfile, { explicitFormat: false, deviceLrgObj: true });
  await assert.rejects(
    service.updateDevice(DEV, { sessionProfile: { commandsPerMessage: 0 } }),
    /commandsPerMessage must be a whole number from 1 to 1000/,
  );
  await assert.rejects(service.updateDevice(DEV, { sessionProfile: { chunkSize: 3 } }), /sessionProfile.chunkSize is not a profile field/);
  await assert.rejects(service.updateDevice(DEV, { serverNonce: 'not base64!' }), /serverNonce must be base64/);
  assert.deepEqual(
    (await store.getDevice(DEV))!.sessionProfile,
    { explicitFormat: false, deviceLrgObj: true },
    'a refused change changes nothing',
  );
});

test('a device package that leaves commands unanswered: the Get goes again at once, the Add is in doubt', async () => {
  const { service, store, session } = await engineRig();
  const [get] = await queueGets(service, 1);
  const add = await service.queue(DEV, { kind: 'Add', path: './Vendor/gwmo/New', value: 'v' });
  const s = session();
  assert.equal(sent(await s.start()).length, 2);
  const next = await s.send([]); // a complete package, no Status for either
  assert.deepEqual(
    sent(next).map((c) => c.kind),
    ['Get'],
    'the Get is sent again in the same session, the Add is not',
  );
  assert.equal((await store.getOperation(get!.id))!.state, 'sent');
  const a = (await store.getOperation(add.id))!;
  assert.equal(a.state, 'indoubt');
  assert.match(a.note ?? '', /no status received \(the device ended its package without answering it\)/);
});

test('a server that stops with an Add in flight leaves it in doubt, a Get queued', async () => {
  const { service, store, session, engine } = await engineRig();
  const [get] = await queueGets(service, 1);
  const add = await service.queue(DEV, { kind: 'Add', path: './Vendor/gwmo/New', value: 'v' });
  assert.equal(sent(await session().start()).length, 2);
  await engine.close();
  assert.equal((await store.getOperation(get!.id))!.state, 'queued');
  const a = (await store.getOperation(add.id))!;
  assert.equal(a.state, 'indoubt');
  assert.match(a.note ?? '', /no status received \(the server stopped first\)/);
});
