// The session trace: a real device's session recorded where the server handles messages, shown as
// XML with secrets masked (WBXML decoded with our codec); the ring of sessions and each session's
// bytes are bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { encodeXml, type Message } from '../../src/protocol/index.ts';
import { messageXml, SessionTrace } from '../../src/server/trace.ts';
import { startPair } from '../support/dm-pair.ts';

test('a WBXML session is recorded in order and shown as XML, with credentials and secret values masked', async () => {
  const trace = new SessionTrace();
  const p = await startPair({ encoding: 'wbxml', scheme: 'basic', trace });
  try {
    await p.server.service.queue(p.deviceId, {
      kind: 'Replace',
      path: './DMAcc/gwmo/AppAuth/CLCRED/AAuthSecret',
      value: 'brand-new-secret',
    });
    assert.equal((await p.agent.session()).end, 'done');
    const [s] = trace.list();
    assert.ok(s);
    assert.deepEqual([s.deviceId, s.outcome, trace.list().length], [p.deviceId, 'done', 1]);
    assert.deepEqual(s.messages.map((m) => `${m.direction}:${m.encoding}`).slice(0, 4), ['in:wbxml', 'out:wbxml', 'in:wbxml', 'out:wbxml']);
    const xml = s.messages.map(messageXml);
    assert.ok(
      xml.every((x) => /^(<\?xml[^>]*>)?<SyncML/.test(x)),
      xml[0],
    );
    assert.match(xml[0]!, /<Cred>.*<Data>\*\*\*\*\*<\/Data><\/Cred>/s, 'the basic credentials are masked');
    const all = xml.join('\n');
    assert.ok(!all.includes(Buffer.from('dev1:dev-secret').toString('base64')), 'no basic credentials in the trace');
    assert.ok(!all.includes('brand-new-secret'), 'no secret node value in the trace');
    assert.match(all, /AAuthSecret<\/LocURI><\/Target><Meta><Format xmlns="syncml:metinf">chr<\/Format><\/Meta><Data>\*\*\*\*\*<\/Data>/);
    assert.match(all, /<LocURI>\.\/DevInfo\/DevId<\/LocURI>.*<Data>IMEI:359881234567890<\/Data>/s, 'other values stay');

    const api = p.url.replace(/\/dm$/, '/api');
    const list = (await (await fetch(`${api}/sessions`)).json()) as { items: { id: string; messages: number; outcome: string }[] };
    assert.deepEqual(
      list.items.map((i) => [i.outcome, i.messages]),
      [['done', s.messages.length]],
    );
    const one = (await (await fetch(`${api}/sessions/${list.items[0]!.id}/trace`)).json()) as {
      trace: { n: number; direction: string; encoding: string; bytes: number; xml: string }[];
    };
    assert.deepEqual(
      one.trace.map((m) => m.n),
      s.messages.map((_, i) => i + 1),
    );
    assert.equal(one.trace[0]!.bytes, s.messages[0]!.bytes.length);
    assert.equal(one.trace[0]!.xml, xml[0]);
    assert.equal((await fetch(`${api}/sessions/nope/trace`)).status, 404);
  } finally {
    await p.close();
  }
});

const message = (device: string, sessionId: string, filler = ''): Message => ({
  hdr: { verDtd: '1.2', verProto: 'DM/1.2', sessionId, msgId: 1, target: { locUri: 'http://srv/dm' }, source: { locUri: device } },
  body: { commands: [{ kind: 'Alert', cmdId: 1, data: 1201, items: filler ? [{ data: filler }] : [] }], final: true },
});
const reply = (key: string): Message => ({
  hdr: {
    verDtd: '1.2',
    verProto: 'DM/1.2',
    sessionId: '1',
    msgId: 1,
    target: { locUri: 'dev' },
    source: { locUri: 'http://srv/dm' },
    respUri: `http://srv/dm?s=${key}`,
  },
  body: { commands: [], final: true },
});

test('the trace keeps the last sessions only, and each session up to its byte cap', () => {
  const trace = new SessionTrace({ maxSessions: 3, maxSessionBytes: 2000 });
  for (let i = 1; i <= 5; i++)
    trace.record(
      { body: encodeXml(message(`IMEI:${i}`, String(i))), encoding: 'xml', url: '/dm' },
      { body: encodeXml(reply(`k${i}`)), encoding: 'xml' },
    );
  assert.deepEqual(
    trace.list().map((s) => s.deviceId),
    ['IMEI:5', 'IMEI:4', 'IMEI:3'],
  );
  assert.equal(trace.get('1'), undefined);
  // later messages of session k5 go to it (RespURI key), until its bytes run out
  for (let i = 0; i < 5; i++)
    trace.record(
      { body: encodeXml(message('IMEI:5', '5', 'x'.repeat(300))), encoding: 'xml', url: '/dm?s=k5' },
      { body: encodeXml(reply('k5')), encoding: 'xml' },
    );
  const s = trace.get('5')!;
  assert.equal(trace.list().length, 3);
  assert.ok(s.bytes <= 2000 && s.dropped > 0, `${s.bytes} bytes kept, ${s.dropped} dropped`);
  trace.ended('IMEI:5', 'done');
  assert.equal(trace.get('5')!.outcome, 'done');
});

test('a refused message is a session of its own with the HTTP answer; undecodable bytes are shown as such', () => {
  const trace = new SessionTrace();
  trace.record(
    { body: new TextEncoder().encode('<SyncML><broken'), encoding: 'xml', url: '/dm' },
    { httpStatus: 400, message: 'undecodable DM message' },
  );
  const [s] = trace.list();
  assert.equal(s!.outcome, 'refused (HTTP 400)');
  assert.match(messageXml(s!.messages[0]!), /^<!-- undecodable xml message of 15 bytes/);
  assert.equal(messageXml(s!.messages[1]!), 'HTTP 400: undecodable DM message');
});

test('a traced message holds only its own bytes, not the larger buffer it arrived in', async () => {
  const trace = new SessionTrace();
  const p = await startPair({ encoding: 'xml', scheme: 'basic', trace });
  try {
    assert.equal((await p.agent.session()).end, 'done');
    const [s] = trace.list();
    assert.ok(s && s.messages.length >= 2);
    // the ring's bound is counted in message bytes (MAX_SESSION_BYTES): a message that kept the 64 KiB
    // socket read or Buffer pool slab it is a view of would hold far more than counted
    for (const m of s.messages) assert.equal(m.bytes.buffer.byteLength, m.bytes.byteLength, `${m.direction} message`);
    const slab = new Uint8Array(65_536);
    trace.record(
      { body: slab.subarray(100, 200), encoding: 'xml', url: '/dm' },
      { httpStatus: 400, message: 'bad', refused: { reason: 'malformed' } },
    );
    const kept = trace
      .list()
      .flatMap((t) => t.messages)
      .find((m) => m.bytes.byteLength === 100);
    assert.ok(kept, 'the refused message is kept');
    assert.equal(kept.bytes.buffer.byteLength, 100);
  } finally {
    await p.close();
  }
});
