// The client session engine against hand-written server packages: Atomic, Sequence, UI alerts,
// large objects received, and what a device must not answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  AuthScheme,
  type Command,
  decodeXml,
  encodeXml,
  makeCred,
  type Message,
  type Results,
  type Status,
} from '../../../src/protocol/index.ts';
import { ClientSession } from '../../../src/session/client/session.ts';
import { Tree } from '../../../src/tree/index.ts';

const SRV = 'http://dm.example/dm';

function device() {
  const tree = new Tree();
  tree.define('.', { format: 'node', acl: 'Add=*&Get=*&Replace=srv&Delete=srv&Exec=srv' });
  tree.define('./V', { format: 'node' });
  tree.define('./V/A', { value: 'a0' });
  tree.define('./V/B', { value: 'b0' });
  const session = new ClientSession(
    {
      tree,
      clock: { now: () => 0 },
      encoding: 'xml',
      devInfo: { DevId: 'IMEI:5', Man: 'M', Mod: 'X', DmV: '1.2', Lang: 'en' },
      account: { serverId: 'srv', serverUrl: SRV, clientAuth: { scheme: AuthScheme.Basic, name: 'd', password: 'p' } },
      saveNonces: () => {},
    },
    { sessionId: '7', initiator: 'client' },
  );
  session.start();
  return { tree, session };
}

let serverMsg = 0;
function serverPackage(commands: Command[], final = true): Message {
  let id = 1;
  const number = (c: Command): Command => {
    const cmdId = id++;
    return c.kind === 'Atomic' || c.kind === 'Sequence' ? { ...c, cmdId, commands: c.commands.map(number) } : { ...c, cmdId };
  };
  return {
    hdr: { verDtd: '1.2', verProto: 'DM/1.2', sessionId: '7', msgId: ++serverMsg, target: { locUri: 'IMEI:5' }, source: { locUri: SRV } },
    body: {
      commands: [
        { kind: 'Status' as const, cmdId: 0, msgRef: 1, cmdRef: 0, cmd: 'SyncHdr', targetRefs: [], sourceRefs: [], code: 212, items: [] },
        ...commands,
      ].map(number),
      final,
    },
  };
}

async function exchange(session: ClientSession, msg: Message): Promise<Message | undefined> {
  const reply = await session.receive({ body: encodeXml(msg), encoding: 'xml' });
  return reply ? decodeXml(reply.body) : undefined;
}

const replace = (uri: string, data: string): Command => ({ kind: 'Replace', cmdId: 0, items: [{ target: { locUri: uri }, data }] });
const statuses = (m: Message): [string, number | undefined, number][] =>
  m.body.commands.filter((c): c is Status => c.kind === 'Status' && c.cmdRef !== 0).map((s) => [s.cmd, s.cmdRef, s.code]);

test('Atomic: one failure rolls every command back (507, 216 for the undone, the failure keeps its code)', async () => {
  const { tree, session } = device();
  const reply = await exchange(
    session,
    serverPackage([
      {
        kind: 'Atomic',
        cmdId: 0,
        commands: [
          replace('./V/A', 'a1'),
          { kind: 'Add', cmdId: 0, items: [{ target: { locUri: './V/C' }, data: 'c' }] },
          replace('./V/Missing', 'x'),
          replace('./V/B', 'b1'),
        ],
      },
    ]),
  );
  assert.deepEqual(statuses(reply!), [
    ['Atomic', 2, 507],
    ['Replace', 3, 216],
    ['Add', 4, 216],
    ['Replace', 5, 404],
    ['Replace', 6, 215],
  ]);
  assert.equal(tree.read('./V/A'), 'a0');
  assert.equal(tree.exists('./V/C'), false);
  assert.equal(tree.read('./V/B'), 'b0');
});

test('Atomic that succeeds keeps everything; Results of a Get inside it come back', async () => {
  const { tree, session } = device();
  const reply = await exchange(
    session,
    serverPackage([
      { kind: 'Atomic', cmdId: 0, commands: [replace('./V/A', 'a1'), { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './V/A' } }] }] },
    ]),
  );
  assert.deepEqual(statuses(reply!), [
    ['Atomic', 2, 200],
    ['Replace', 3, 200],
    ['Get', 4, 200],
  ]);
  const results = reply!.body.commands.find((c): c is Results => c.kind === 'Results')!;
  assert.equal(results.cmdRef, 4);
  assert.equal(results.items[0]!.data, 'a1');
  assert.equal(tree.read('./V/A'), 'a1');
});

test('Sequence: a "no" to a confirm skips the rest (215); a "no" inside Atomic rolls it back', async () => {
  const { tree, session } = device();
  const confirmNo: Command = { kind: 'Alert', cmdId: 0, data: 1101, items: [{ data: 'DR=0' }, { data: 'Proceed?' }] };
  const reply = await exchange(
    session,
    serverPackage([
      { kind: 'Sequence', cmdId: 0, commands: [replace('./V/A', 'a1'), confirmNo, replace('./V/B', 'b1')] },
      { kind: 'Atomic', cmdId: 0, commands: [replace('./V/B', 'b2'), { ...confirmNo }] },
    ]),
  );
  assert.deepEqual(statuses(reply!), [
    ['Sequence', 2, 200],
    ['Replace', 3, 200],
    ['Alert', 4, 304],
    ['Replace', 5, 215],
    ['Atomic', 6, 507],
    ['Replace', 7, 216],
    ['Alert', 8, 304],
  ]);
  assert.equal(tree.read('./V/A'), 'a1');
  assert.equal(tree.read('./V/B'), 'b0');
});

test('large object received: 213 per chunk, then the value; a Size that does not match is 424 and nothing is written', async () => {
  const { tree, session } = device();
  const chunk = (data: string, more: boolean, size?: number): Command => ({
    kind: 'Replace',
    cmdId: 0,
    items: [{ target: { locUri: './V/A' }, ...(size ? { meta: { size } } : {}), data, ...(more ? { moreData: true } : {}) }],
  });
  let r = await exchange(session, serverPackage([chunk('hello ', true, 11)], false));
  assert.deepEqual(statuses(r!), [['Replace', 2, 213]]);
  assert.ok(r!.body.commands.some((c) => c.kind === 'Alert' && c.data === 1222));
  r = await exchange(session, serverPackage([chunk('world', false)]));
  assert.deepEqual(statuses(r!), [['Replace', 2, 200]]);
  assert.equal(tree.read('./V/A'), 'hello world');

  await exchange(session, serverPackage([chunk('abc', true, 100)], false));
  r = await exchange(session, serverPackage([chunk('def', false)]));
  assert.deepEqual(statuses(r!), [['Replace', 2, 424]]);
  assert.equal(tree.read('./V/A'), 'hello world');
});

test('a chunk interrupted by another command is dropped with Alert 1225', async () => {
  const { tree, session } = device();
  await exchange(
    session,
    serverPackage(
      [{ kind: 'Replace', cmdId: 0, items: [{ target: { locUri: './V/A' }, meta: { size: 10 }, data: 'half', moreData: true }] }],
      false,
    ),
  );
  const r = await exchange(session, serverPackage([replace('./V/B', 'b1')]));
  const alert = r!.body.commands.find((c) => c.kind === 'Alert')!;
  assert.equal(alert.kind === 'Alert' && alert.data, 1225);
  assert.equal(tree.read('./V/A'), 'a0');
  assert.equal(tree.read('./V/B'), 'b1');
});

test('a server package with nothing to do ends the session: no answer is sent', async () => {
  const { session } = device();
  assert.equal(await exchange(session, serverPackage([])), undefined);
  assert.equal(session.ended, 'done');
});

test('UI alerts without a UI: defaults taken (DR=), unknown alert codes 406', async () => {
  const { session } = device();
  const r = await exchange(
    session,
    serverPackage([
      { kind: 'Alert', cmdId: 0, data: 1100, items: [{ data: '' }, { data: 'Hello' }] },
      { kind: 'Alert', cmdId: 0, data: 1102, items: [{ data: 'DR=1234' }, { data: 'PIN?' }] },
      { kind: 'Alert', cmdId: 0, data: 1103, items: [{ data: 'DR=2' }, { data: 'Pick' }, { data: 'a' }, { data: 'b' }] },
      { kind: 'Alert', cmdId: 0, data: 1199, items: [] },
    ]),
  );
  const s = r!.body.commands.filter((c): c is Status => c.kind === 'Status' && c.cmdRef !== 0);
  assert.deepEqual(
    s.map((x) => [x.code, x.items.map((i) => i.data)]),
    [
      [200, []],
      [200, ['1234']],
      [200, ['2']],
      [406, []],
    ],
  );
});

test('a server whose credentials keep failing is challenged a few times, then the session ends (no answer to each of its replies)', async () => {
  const tree = new Tree();
  tree.define('.', { format: 'node', acl: 'Get=*' });
  const session = new ClientSession(
    {
      tree,
      clock: { now: () => 0 },
      encoding: 'xml',
      devInfo: { DevId: 'IMEI:5', Man: 'M', Mod: 'X', DmV: '1.2', Lang: 'en' },
      account: {
        serverId: 'srv',
        serverUrl: SRV,
        clientAuth: { scheme: AuthScheme.Md5, name: 'd', password: 'p' },
        serverAuth: { name: 'srv', password: 'its-own-secret' },
      },
      saveNonces: () => {},
    },
    { sessionId: '7', initiator: 'client' },
  );
  session.start();
  // the server closes each time (Final, nothing to run) but with a Cred made from another secret
  const closing = (): Message => {
    const m = serverPackage([]);
    return { ...m, hdr: { ...m.hdr, cred: makeCred(AuthScheme.Md5, { name: 'srv', password: 'shared' }, new Uint8Array(0)) } };
  };
  const codes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const reply = await exchange(session, closing());
    if (reply === undefined) break;
    codes.push((reply.body.commands[0] as Status).code);
  }
  assert.deepEqual(codes, [401, 401, 401], 'each refusal carries a Chal for the server to try again, three times');
  assert.equal(session.ended, 'server-not-authenticated');
});
