// The server engine reading what a lenient reader can do without (docs/interop.md): a Status that
// has no CmdRef and answers nothing we sent is ignored with a warning, never a dropped session; and
// only an authenticated device's quirks are told (a stranger's message costs no log line).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  AuthScheme,
  type Command,
  decodeXml,
  encodeXml,
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

async function setup() {
  const clock = { now: () => 1_000_000 };
  const store = new SqliteServerStore(':memory:');
  const service = new ServerService(store, clock, 'gwmo-test');
  await service.addDevice({ deviceId: DEV, name: 'dev1', password: 'secret', scheme: 'md5' });
  const warned: { deviceId: string; codes: string[] }[] = [];
  let n = 0;
  const engine = new ServerEngine(
    { ...engineDeps(store, clock), onWarnings: (deviceId, w) => warned.push({ deviceId, codes: w.map((x) => x.code) }) },
    {
      serverId: 'gwmo-test',
      url: URL_,
      newNonce: () => Uint8Array.of(1, 2, 3, ++n),
    },
  );
  return { store, service, engine, warned };
}

function message(msgId: number, commands: Command[], extra: Partial<Message['hdr']> = {}): Message {
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
    body: { commands: commands.map((c) => ({ ...c, cmdId: id++ })), final: true },
  };
}

const pkg1 = (): Command[] => [
  { kind: 'Alert', cmdId: 0, data: 1201, items: [] },
  { kind: 'Replace', cmdId: 0, items: [{ source: { locUri: './DevInfo/Mod' }, meta: { format: 'Chr' }, data: 'Model-7' }] },
];

async function post(engine: ServerEngine, msg: Message, url = '/dm') {
  const reply = await engine.handle({ body: encodeXml(msg), encoding: 'xml', url });
  assert.ok(!isRefusal(reply), `a DM answer, not HTTP ${isRefusal(reply) ? `${reply.httpStatus} ${reply.message}` : ''}`);
  return decodeXml(reply.body);
}
const respPath = (m: Message): string => new URL(m.hdr.respUri!).pathname + new URL(m.hdr.respUri!).search;

test('a Status without CmdRef that answers nothing we sent is ignored with a warning; the command goes out again', async () => {
  const { engine, service, store, warned } = await setup();
  const op = await service.queue(DEV, { kind: 'Get', path: './DevInfo/Mod' });
  const r1 = await post(engine, message(1, pkg1()));
  assert.equal(warned.length, 0, 'nothing told for a device that has not authenticated');
  const chal = (r1.body.commands[0] as Status).chal!;
  const cred = makeCred(AuthScheme.Md5, { name: 'dev1', password: 'secret' }, nonceFromText(chal.meta.nextNonce!));
  const r2 = await post(engine, message(2, pkg1(), { cred }), respPath(r1));
  assert.deepStrictEqual(warned, [{ deviceId: DEV, codes: ['DM_FORMAT_CASE'] }]);
  const get = r2.body.commands.find((c) => c.kind === 'Get')!;

  const hdr: Status = {
    kind: 'Status',
    cmdId: 0,
    msgRef: r2.hdr.msgId,
    cmd: 'SyncHdr',
    targetRefs: [],
    sourceRefs: [],
    code: 200,
    items: [],
  };
  const stray: Status = {
    kind: 'Status',
    cmdId: 0,
    msgRef: r2.hdr.msgId,
    cmd: 'Replace',
    targetRefs: ['./DevInfo/Mod'],
    sourceRefs: [],
    code: 200,
    items: [],
  };
  const r3 = await post(engine, message(3, [hdr, stray]), respPath(r2));
  assert.deepStrictEqual(
    warned
      .slice(1)
      .flatMap((w) => w.codes)
      .sort(),
    ['DM_STATUS_NO_CMDREF', 'DM_STATUS_NO_CMDREF', 'DM_STATUS_UNMATCHED'],
  );
  const again = r3.body.commands.find((c) => c.kind === 'Get');
  assert.ok(again && again.kind === 'Get' && again.items[0]!.target!.locUri === './DevInfo/Mod', 'the unanswered Get is sent again');
  assert.notEqual(get, again);
  assert.equal((await store.getOperation(op.id))!.state, 'sent');

  // answered this time without CmdRef, by Cmd and target: done with its value
  const ok: Status = { ...stray, msgRef: r3.hdr.msgId, cmd: 'Get' };
  const results: Command = {
    kind: 'Results',
    cmdId: 0,
    msgRef: r3.hdr.msgId,
    cmdRef: again!.cmdId,
    items: [{ source: { locUri: './DevInfo/Mod' }, data: 'Model-7' }],
  };
  await post(engine, message(4, [{ ...hdr, msgRef: r3.hdr.msgId }, ok, results]), respPath(r3));
  const row = (await store.getOperation(op.id))!;
  assert.deepStrictEqual([row.state, row.status, row.results?.[0]?.data], ['done', 200, 'Model-7']);
});
