// The server session engine against hand-written device messages (the device side of these
// exchanges is built here, command by command, so each rule of the protocol shows on its own).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  AuthScheme,
  type Command,
  decodeXml,
  encodeXml,
  formatHmacHeader,
  hmac,
  makeCred,
  type Message,
  nonceFromText,
  type Status,
} from '../../../src/protocol/index.ts';
import { engineDeps } from '../../../src/server/engine-deps.ts';
import { ServerService } from '../../../src/server/service.ts';
import { isRefusal, ServerEngine } from '../../../src/session/server/index.ts';
import { SqliteServerStore } from '../../../src/store/sqlite/server.ts';

const URL_ = 'http://127.0.0.1:1/dm';
const DEV = 'IMEI:001';

async function setup(options: { scheme?: 'basic' | 'md5' | 'hmac'; maxOpsPerPackage?: number } = {}) {
  let now = 1_000_000;
  const clock = { now: () => now };
  const store = new SqliteServerStore(':memory:');
  const service = new ServerService(store, clock, 'gwmo-test');
  await service.addDevice({ deviceId: DEV, name: 'dev1', password: 'secret', scheme: options.scheme ?? 'md5' });
  let n = 0;
  const engine = new ServerEngine(engineDeps(store, clock), {
    serverId: 'gwmo-test',
    url: URL_,
    sessionTimeoutMs: 60_000,
    newNonce: () => Uint8Array.of(1, 2, 3, ++n),
    ...(options.maxOpsPerPackage ? { maxOpsPerPackage: options.maxOpsPerPackage } : {}),
  });
  return {
    store,
    service,
    engine,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function deviceMessage(msgId: number, commands: Command[], extra: Partial<Message['hdr']> = {}, final = true): Message {
  let id = 1;
  return {
    hdr: {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: '1',
      msgId,
      target: { locUri: URL_ },
      source: { locUri: DEV, locName: 'dev1' },
      ...extra,
    },
    body: { commands: commands.map((c) => ({ ...c, cmdId: id++ })), final },
  };
}

const pkg1 = (): Command[] => [
  { kind: 'Alert', cmdId: 0, data: 1201, items: [] },
  {
    kind: 'Replace',
    cmdId: 0,
    items: [
      { source: { locUri: './DevInfo/Mod' }, data: 'Model-7' },
      { source: { locUri: './DevInfo/Man' }, data: 'Acme' },
    ],
  },
];

async function post(engine: ServerEngine, msg: Message, url = '/dm', hmacValue?: string) {
  const body = encodeXml(msg);
  const reply = await engine.handle({ body, encoding: 'xml', url, ...(hmacValue ? { hmac: hmacValue } : {}) });
  if (isRefusal(reply)) return { refusal: reply } as const;
  return { msg: decodeXml(reply.body), hmac: reply.hmac } as const;
}

const hdrStatus = (m: Message): Status => m.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef === 0)!;
const respPath = (m: Message): string => new URL(m.hdr.respUri!).pathname + new URL(m.hdr.respUri!).search;

test('md5: no Cred → 407 + Chal; Cred with the challenged nonce → 212 and the queued Get goes out', async () => {
  const { engine, service, store } = await setup();
  const op = await service.queue(DEV, { kind: 'Get', path: './DevInfo/Mod' });
  const r1 = await post(engine, deviceMessage(1, pkg1()));
  const s1 = hdrStatus(r1.msg!);
  assert.equal(s1.code, 407);
  assert.equal(s1.chal?.meta.type, 'syncml:auth-md5');
  assert.ok(
    r1.msg!.body.commands.every((c) => c.kind === 'Status'),
    'a failed message is answered with Status only',
  );
  assert.equal((await store.getOperation(op.id))!.state, 'queued');

  const nonce = nonceFromText(s1.chal!.meta.nextNonce!);
  const cred = makeCred(AuthScheme.Md5, { name: 'dev1', password: 'secret' }, nonce);
  const r2 = await post(engine, deviceMessage(2, pkg1(), { cred }), respPath(r1.msg!));
  const s2 = hdrStatus(r2.msg!);
  assert.equal(s2.code, 212);
  assert.ok(s2.chal?.meta.nextNonce, 'a nonce for the next session');
  const get = r2.msg!.body.commands.find((c) => c.kind === 'Get')!;
  assert.equal(get.kind === 'Get' && get.items[0]!.target!.locUri, './DevInfo/Mod');
  assert.equal((await store.getOperation(op.id))!.state, 'sent');
  assert.deepEqual((await store.getDevice(DEV))!.devInfo, { Mod: 'Model-7', Man: 'Acme' });

  // Status 200 + Results: the operation is done with its value; nothing more to send → session over
  const r3 = await post(
    engine,
    deviceMessage(3, [
      {
        kind: 'Status',
        cmdId: 0,
        msgRef: r2.msg!.hdr.msgId,
        cmdRef: 0,
        cmd: 'SyncHdr',
        targetRefs: [],
        sourceRefs: [],
        code: 200,
        items: [],
      },
      {
        kind: 'Status',
        cmdId: 0,
        msgRef: r2.msg!.hdr.msgId,
        cmdRef: get.cmdId,
        cmd: 'Get',
        targetRefs: ['./DevInfo/Mod'],
        sourceRefs: [],
        code: 200,
        items: [],
      },
      {
        kind: 'Results',
        cmdId: 0,
        msgRef: r2.msg!.hdr.msgId,
        cmdRef: get.cmdId,
        items: [{ source: { locUri: './DevInfo/Mod' }, data: 'Model-7' }],
      },
    ]),
    respPath(r2.msg!),
  );
  assert.equal(r3.msg!.body.commands.filter((c) => c.kind !== 'Status').length, 0);
  assert.equal(r3.msg!.body.final, true);
  const done = (await store.getOperation(op.id))!;
  assert.equal(done.state, 'done');
  assert.equal(done.status, 200);
  assert.deepEqual(done.results, [{ uri: './DevInfo/Mod', format: 'chr', data: 'Model-7' }]);
  assert.equal(engine.activeSessions, 0);
});

test('wrong password: 401 each time, the session ends after 3 tries and nothing is sent', async () => {
  const { engine, service, store } = await setup();
  const op = await service.queue(DEV, { kind: 'Replace', path: './Vendor/X', value: '1' });
  let url = '/dm';
  for (let i = 1; i <= 3; i++) {
    const cred = makeCred(AuthScheme.Md5, { name: 'dev1', password: 'wrong' }, new Uint8Array(4));
    const r = await post(engine, deviceMessage(i, pkg1(), { cred }), url);
    assert.equal(hdrStatus(r.msg!).code, 401);
    assert.ok(!r.msg!.body.commands.some((c) => c.kind === 'Replace'));
    url = respPath(r.msg!);
  }
  assert.equal(engine.activeSessions, 0);
  assert.equal((await store.getOperation(op.id))!.state, 'queued');
});

test('unknown device: challenged like a known one (407 + md5 Chal, then 401 for any Cred), no session', async () => {
  const { engine } = await setup();
  const stranger = (msgId: number, extra: Partial<Message['hdr']> = {}): Message =>
    deviceMessage(msgId, pkg1(), { source: { locUri: 'IMEI:999', locName: 'dev1' }, ...extra });
  const r1 = await post(engine, stranger(1));
  assert.equal(hdrStatus(r1.msg!).code, 407);
  assert.equal(hdrStatus(r1.msg!).chal?.meta.type, 'syncml:auth-md5');
  assert.ok(r1.msg!.body.commands.every((c) => c.kind === 'Status' && c.code === 407));
  const nonce = nonceFromText(hdrStatus(r1.msg!).chal!.meta.nextNonce!);
  const r2 = await post(
    engine,
    stranger(2, { cred: makeCred(AuthScheme.Md5, { name: 'dev1', password: 'secret' }, nonce) }),
    respPath(r1.msg!),
  );
  assert.equal(hdrStatus(r2.msg!).code, 401);
  assert.equal(hdrStatus(r2.msg!).chal?.meta.nextNonce, hdrStatus(r1.msg!).chal?.meta.nextNonce, 'its nonce stays, as a stored one does');
  assert.equal(engine.activeSessions, 0);
});

test('bad input: undecodable body → HTTP 400; unknown session → HTTP 404; the engine keeps serving', async () => {
  const { engine } = await setup({ scheme: 'basic' });
  const bad = await engine.handle({ body: new TextEncoder().encode('<SyncML><SyncHdr>'), encoding: 'xml', url: '/dm' });
  assert.ok(isRefusal(bad) && bad.httpStatus === 400, JSON.stringify(bad));
  const orphan = await post(
    engine,
    deviceMessage(2, [
      { kind: 'Status', cmdId: 0, msgRef: 1, cmdRef: 0, cmd: 'SyncHdr', targetRefs: [], sourceRefs: [], code: 200, items: [] },
    ]),
    '/dm?s=nope',
  );
  assert.equal(orphan.refusal?.httpStatus, 404);
  const cred = makeCred(AuthScheme.Basic, { name: 'dev1', password: 'secret' }, new Uint8Array(0));
  const ok = await post(engine, deviceMessage(1, pkg1(), { cred }));
  assert.equal(hdrStatus(ok.msg!).code, 212);
});

test('HMAC: a MAC over the exact body is required on every message', async () => {
  const { engine, service } = await setup({ scheme: 'hmac' });
  await service.queue(DEV, { kind: 'Get', path: './DevInfo/Mod' }); // keeps the session open after message 2
  const m1 = deviceMessage(1, pkg1());
  const r1 = await post(engine, m1);
  assert.equal(hdrStatus(r1.msg!).code, 407);
  const nonce = nonceFromText(hdrStatus(r1.msg!).chal!.meta.nextNonce!);
  const m2 = deviceMessage(2, pkg1());
  const mac = hmac('dev1', 'secret', nonce, encodeXml(m2));
  const r2 = await post(engine, m2, respPath(r1.msg!), formatHmacHeader({ username: 'dev1', mac }));
  assert.equal(hdrStatus(r2.msg!).code, 200, 'under HMAC the header status is 200, never 212');
  assert.ok(hdrStatus(r2.msg!).chal?.meta.nextNonce, 'and a new nonce for the next message');
  // a tampered body fails
  const next = nonceFromText(hdrStatus(r2.msg!).chal!.meta.nextNonce!);
  const m3 = deviceMessage(3, [{ kind: 'Alert', cmdId: 0, data: 1222, items: [] }]);
  const mac3 = hmac('dev1', 'secret', next, encodeXml(deviceMessage(3, [{ kind: 'Alert', cmdId: 0, data: 1223, items: [] }])));
  const r3 = await post(engine, m3, respPath(r2.msg!), formatHmacHeader({ username: 'dev1', mac: mac3 }));
  assert.equal(hdrStatus(r3.msg!).code, 401);
});

test('a session idle past the timeout is dropped and its sent operations go back to the queue', async () => {
  const { engine, service, store, advance } = await setup({ scheme: 'basic' });
  const op = await service.queue(DEV, { kind: 'Delete', path: './Vendor/Old' });
  const cred = makeCred(AuthScheme.Basic, { name: 'dev1', password: 'secret' }, new Uint8Array(0));
  await post(engine, deviceMessage(1, pkg1(), { cred }));
  assert.equal((await store.getOperation(op.id))!.state, 'sent');
  advance(30_000);
  assert.equal(await engine.expire(), 0);
  advance(30_000);
  assert.equal(await engine.expire(), 1);
  assert.equal((await store.getOperation(op.id))!.state, 'queued');
});

test('operations beyond one package wait for the next one', async () => {
  const { engine, service, store } = await setup({ scheme: 'basic', maxOpsPerPackage: 2 });
  const ops = await Promise.all([1, 2, 3].map((i) => service.queue(DEV, { kind: 'Replace', path: `./Vendor/N${i}`, value: String(i) })));
  const cred = makeCred(AuthScheme.Basic, { name: 'dev1', password: 'secret' }, new Uint8Array(0));
  const r1 = await post(engine, deviceMessage(1, pkg1(), { cred }));
  const sent = r1.msg!.body.commands.filter((c) => c.kind === 'Replace');
  assert.equal(sent.length, 2);
  const statuses = (m: Message, cmds: Command[]): Command[] => [
    { kind: 'Status', cmdId: 0, msgRef: m.hdr.msgId, cmdRef: 0, cmd: 'SyncHdr', targetRefs: [], sourceRefs: [], code: 200, items: [] },
    ...cmds.map((c) => ({
      kind: 'Status' as const,
      cmdId: 0,
      msgRef: m.hdr.msgId,
      cmdRef: c.cmdId,
      cmd: c.kind,
      targetRefs: [],
      sourceRefs: [],
      code: 200,
      items: [],
    })),
  ];
  const r2 = await post(engine, deviceMessage(2, statuses(r1.msg!, sent)), respPath(r1.msg!));
  const third = r2.msg!.body.commands.filter((c) => c.kind === 'Replace');
  assert.equal(third.length, 1);
  await post(engine, deviceMessage(3, statuses(r2.msg!, third)), respPath(r2.msg!));
  assert.deepEqual(
    (await Promise.all(ops.map((o) => store.getOperation(o.id)))).map((o) => o!.state),
    ['done', 'done', 'done'],
  );
});

test('the message that starts a session is one unit of work: the account lookup commits with its writes', async () => {
  const store = new SqliteServerStore(':memory:');
  const clock = { now: () => 1_000_000 };
  await new ServerService(store, clock, 'gwmo-test').addDevice({ deviceId: DEV, name: 'dev1', password: 'secret', scheme: 'md5' });
  const base = engineDeps(store, clock);
  const log: string[] = [];
  let inUnit = false;
  const engine = new ServerEngine(
    {
      ...base,
      unitOfWork: async (work) => {
        log.push('unit');
        inUnit = true;
        try {
          return await base.unitOfWork!(work);
        } finally {
          inUnit = false;
        }
      },
      findAccount: async (deviceId) => {
        log.push(inUnit ? 'account in unit' : 'account outside');
        return base.findAccount(deviceId);
      },
    },
    { serverId: 'gwmo-test', url: URL_, newNonce: () => Uint8Array.of(1, 2, 3, 4) },
  );
  const r = await post(engine, deviceMessage(1, pkg1()));
  assert.equal(hdrStatus(r.msg!).code, 407);
  assert.deepEqual(log, ['unit', 'account in unit']);
  assert.ok((await store.getDevice(DEV))?.lastSeen, "the lookup's lastSeen was committed");
});

test('the session key is read from the RespURI query as URLSearchParams reads it', async () => {
  const fc = (await import('fast-check')).default;
  const { sessionKey } = await import('../../../src/session/server/engine.ts');
  const part = fc.stringMatching(/^[a-zA-Z0-9s=&%+?#_-]{0,12}$/);
  fc.assert(
    fc.property(part, part, (path, query) => {
      const url = `/dm${path}?${query}`;
      assert.equal(sessionKey(url), new URL(url, 'http://x').searchParams.get('s'));
    }),
    { numRuns: 2000 },
  );
  assert.equal(sessionKey('/dm?s=AbC-_9'), 'AbC-_9');
  assert.equal(sessionKey('/dm'), null);
});
