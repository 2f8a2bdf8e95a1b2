// A device that refuses the server's credentials (401 + Chal on our SyncHdr) ran none of our
// commands: they go again with the Cred for its new nonce, a bounded number of times, and are never
// filed as failed for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AuthScheme, makeChal, makeCred, type Message } from '../../../src/protocol/index.ts';
import { SERVER_AUTH_RESENDS } from '../../../src/session/server/profile.ts';
import { engineRig, SERVER, sent, statusesFor } from '../../support/engine-rig.ts';

const NEXT = Uint8Array.of(9, 9, 9, 9);
const refuse = (m: Message, nonce = NEXT) =>
  statusesFor(m, 401, 401, {}).map((st, i) => (i === 0 ? { ...st, chal: makeChal(AuthScheme.Md5, nonce) } : st));

test('401 on our SyncHdr: the same Get goes again, with a new CmdID and the Cred for the new nonce, and completes', async () => {
  const refusals: boolean[] = [];
  const { service, store, session } = await engineRig({
    serverNonce: '',
    events: { serverAuthRefused: (_d, _c, gaveUp) => refusals.push(gaveUp) },
  });
  const op = await service.queue('IMEI:001', { kind: 'Get', path: './DevInfo/Mod' });
  const s = session();
  const m1 = await s.start();
  assert.deepEqual(
    m1.hdr.cred,
    makeCred(AuthScheme.Md5, SERVER, new Uint8Array(0)),
    'the first Cred uses the nonce the account says the device holds (empty)',
  );

  const m2 = await s.send(refuse(m1));
  assert.deepEqual(m2.hdr.cred, makeCred(AuthScheme.Md5, SERVER, NEXT), 'the next Cred answers the Chal');
  const again = sent(m2);
  assert.equal(again.length, 1);
  assert.equal(again[0]!.kind, 'Get');
  assert.ok(again[0]!.kind === 'Get' && again[0]!.items[0]!.target!.locUri === './DevInfo/Mod');
  assert.deepEqual(
    [(await store.getOperation(op.id))!.state, (await store.getOperation(op.id))!.status],
    ['sent', undefined],
    'not filed as failed',
  );
  assert.deepEqual(refusals, [false]);

  await s.send([
    ...statusesFor(m2, 212, 200),
    {
      kind: 'Results',
      cmdId: 0,
      msgRef: m2.hdr.msgId,
      cmdRef: again[0]!.cmdId,
      items: [{ source: { locUri: './DevInfo/Mod' }, data: 'Model-7' }],
    },
  ]);
  const done = (await store.getOperation(op.id))!;
  assert.deepEqual([done.state, done.status, done.results?.[0]?.data], ['done', 200, 'Model-7']);
  assert.deepEqual((await store.getDevice('IMEI:001'))!.serverNonce, NEXT, 'the new nonce is kept for the next session');
});

test('a device that keeps refusing: the session ends after the bounded re-sends and the operations stay queued with the reason', async () => {
  const refusals: boolean[] = [];
  const ends: string[] = [];
  const { service, store, session } = await engineRig({
    events: { serverAuthRefused: (_d, _c, gaveUp) => refusals.push(gaveUp), sessionEnded: (_d, outcome) => ends.push(outcome) },
  });
  const a = await service.queue('IMEI:001', { kind: 'Get', path: './DevInfo/Mod' });
  const b = await service.queue('IMEI:001', { kind: 'Add', path: './Vendor/x', value: 'v' });
  const s = session();
  let m = await s.start();
  for (let i = 0; i < SERVER_AUTH_RESENDS; i++) {
    m = await s.send(refuse(m, Uint8Array.of(i)));
    assert.equal(sent(m).length, 2, `re-send ${i + 1}: both commands again`);
  }
  const last = await s.send(refuse(m));
  assert.equal(sent(last).length, 0, 'nothing more is sent');
  assert.deepEqual(refusals, [...Array(SERVER_AUTH_RESENDS).fill(false), true]);
  assert.deepEqual(ends, ['server-auth-failed']);
  for (const id of [a.id, b.id]) {
    const op = (await store.getOperation(id))!;
    assert.equal(op.state, 'queued', 'never failed for the server credentials');
    assert.match(op.note ?? '', /refused the server's credentials \(401\)/);
  }
  assert.equal((await store.listOperations('IMEI:001')).length, 2, 'nothing added or lost');
});

test('a session that ended done, then refused without end (the device holds another secret): a few answers, then no session', async () => {
  const refusals: boolean[] = [];
  const { session } = await engineRig({ events: { serverAuthRefused: (_d, _c, gaveUp) => refusals.push(gaveUp) } });
  const s = session();
  // nothing queued: our first reply closes the session (done), with our Cred
  let m = await s.start();
  assert.equal(sent(m).length, 0);
  let answered = 0;
  let refused: unknown;
  for (let i = 0; i < 20 && refused === undefined; i++) {
    try {
      m = await s.send(refuse(m, Uint8Array.of(i)));
      answered++;
    } catch (err) {
      refused = err;
    }
  }
  // before: an ended "done" session answered every 401 with a reply, and the device every reply with a 401
  assert.equal(answered, SERVER_AUTH_RESENDS + 1, 'each allowed re-try of our Cred is answered, then the session is forgotten');
  assert.match(String(refused), /HTTP 404.*no DM session/);
  assert.deepEqual(refusals, [...Array(SERVER_AUTH_RESENDS).fill(false), true]);
});
