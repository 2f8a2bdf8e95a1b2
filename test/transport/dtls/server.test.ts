// The DTLS server's defences and its handshake machinery, between our client and our server with
// a relay on the path: replayed records dropped, a flood of cookie-less ClientHellos keeping no
// state, resumption (and its end when the key rotates), lost flights retransmitted, fragments
// reassembled, malformed datagrams answered with an alert.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import {
  connectDtls,
  createDtlsServer,
  type DtlsConnection,
  type DtlsServer,
  type ServerConnection,
} from '../../../src/transport/dtls/index.ts';
import { clientHello, message } from '../../../src/transport/dtls/handshake.ts';
import { recordHeader } from '../../../src/transport/dtls/record.ts';
import { udpRelay } from '../../support/udp-relay.ts';

const KEY = Buffer.from('a-key-of-sixteen');

async function server(keys: Map<string, Buffer> = new Map([['dev1', KEY]])) {
  const s = createDtlsServer({ port: 0, psk: (id) => keys.get(id.toString()) });
  const address = await s.listen();
  const messages: string[] = [];
  s.on('connection', (c: DtlsConnection) => c.on('message', (m: Buffer) => messages.push(m.toString())));
  return { s, address, messages, keys };
}

/** the next message the server's associations hear */
function heard(s: DtlsServer): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('nothing heard in 10 s')), 10_000);
    const on = (c: DtlsConnection): void => void c.once('message', (m: Buffer) => (clearTimeout(timer), resolve(m.toString())));
    for (const c of s.connections()) on(c);
    s.once('connection', on); // an abbreviated handshake ends at the server after the client's Finished
  });
}

test('a replayed application record is dropped; the association goes on', async (t) => {
  const { s, address, messages } = await server();
  t.after(() => s.close());
  const relay = await udpRelay(address);
  t.after(() => relay.close());
  const c = await connectDtls({ host: '127.0.0.1', port: relay.port, psk: { identity: 'dev1', key: KEY } });
  t.after(() => c.close());
  let got = heard(s);
  c.send(Buffer.from('once'));
  assert.equal(await got, 'once');
  const record = relay.toServer.findLast((d) => d[0] === 23)!;
  relay.inject(record);
  relay.inject(record);
  got = heard(s);
  c.send(Buffer.from('after')); // sent after the replays on the same path: they were handled first
  assert.equal(await got, 'after');
  assert.deepEqual(messages, ['once', 'after']);
  assert.equal(s.stats().dropped.replayed, 2);
});

test('10,000 ClientHellos without a cookie get HelloVerifyRequests and leave no per-client state', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { s, address } = await server();
  t.after(() => s.close());
  const flood = createSocket('udp4');
  await new Promise<void>((resolve) => flood.bind(0, '127.0.0.1', resolve));
  t.after(() => flood.close());
  const body = clientHello({
    version: 0xfefd,
    random: Buffer.alloc(32, 7),
    sessionId: Buffer.alloc(0),
    cookie: Buffer.alloc(0),
    suites: [0xc0a8],
    extensions: new Map(),
  });
  const hs = message(1, 0, body);
  const hello = Buffer.concat([recordHeader(22, 0xfefd, 0, 0, hs.length), hs]);
  let answers = 0;
  let wake = (): void => {};
  flood.on('message', (d) => {
    if (d[0] === 22 && d[13] === 3) answers++; // HelloVerifyRequest
    wake();
  });
  gc();
  const before = process.memoryUsage().heapUsed;
  const total = 10_000;
  for (let sent = 0; sent < total; sent += 500) {
    for (let i = 0; i < 500; i++) {
      const d = Buffer.from(hello);
      d.writeUInt32BE(sent + i, 27); // the random: every hello is new
      flood.send(d, address.port, address.host);
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${answers} of ${sent + 500} answered`)), 10_000);
      wake = () => answers >= sent + 500 && (clearTimeout(timer), resolve());
      wake();
    });
  }
  gc();
  const grown = (process.memoryUsage().heapUsed - before) / 1024;
  console.log(`# ${total} cookie-less ClientHellos: heap ${grown.toFixed(0)} KiB larger, peers ${s.stats().peers}`);
  assert.equal(s.stats().peers, 0);
  assert.equal(s.stats().helloVerifyRequests, total);
  assert.ok(grown < 1024, `the heap grew by ${grown.toFixed(0)} KiB`);
});

test('a session resumes with an abbreviated handshake; after the key rotates it does not, and the old key fails', async (t) => {
  const { s, address, keys } = await server();
  t.after(() => s.close());
  const c1 = await connectDtls({ host: address.host, port: address.port, psk: { identity: 'dev1', key: KEY } });
  const session = c1.session!;
  c1.close();
  const c2 = await connectDtls({ host: address.host, port: address.port, psk: { identity: 'dev1', key: KEY }, session });
  assert.equal(c2.resumed, true);
  const got = heard(s);
  c2.send(Buffer.from('resumed'));
  assert.equal(await got, 'resumed');
  c2.close();
  assert.deepEqual([s.stats().fullHandshakes, s.stats().resumedHandshakes], [1, 1]);
  const newKey = Buffer.from('the-rotated-key!');
  keys.set('dev1', newKey);
  await assert.rejects(connectDtls({ host: address.host, port: address.port, psk: { identity: 'dev1', key: KEY }, session }), /alert 20/);
  const c3 = await connectDtls({ host: address.host, port: address.port, psk: { identity: 'dev1', key: newKey }, session });
  assert.equal(c3.resumed, false, 'a full handshake with the new key');
  c3.close();
  assert.deepEqual([s.stats().fullHandshakes, s.stats().resumedHandshakes], [2, 1]);
});

let splits = 0;

/** the client's ClientKeyExchange cut in two fragments, the second half first, in one record */
function splitKeyExchange(d: Buffer): Buffer[] {
  if (d[0] !== 22 || d[13] !== 16) return [d];
  splits++;
  const len = d.readUInt16BE(11);
  const msg = d.subarray(13, 13 + len);
  const body = msg.subarray(12);
  const half = body.length >> 1;
  const frag = (off: number, part: Buffer): Buffer => {
    const h = Buffer.from(msg.subarray(0, 12));
    h.writeUIntBE(off, 6, 3);
    h.writeUIntBE(part.length, 9, 3);
    return Buffer.concat([h, part]);
  };
  const fragments = Buffer.concat([frag(half, body.subarray(half)), frag(0, body.subarray(0, half))]);
  const header = Buffer.from(d.subarray(0, 13));
  header.writeUInt16BE(fragments.length, 11);
  return [Buffer.concat([header, fragments, d.subarray(13 + len)])];
}

test('lost flights are retransmitted and a fragmented, reordered message is reassembled', async (t) => {
  const { s, address } = await server();
  t.after(() => s.close());
  let lost = 0;
  const relay = await udpRelay(address, {
    // the server's first ServerHello flight is lost once; the client's key exchange arrives in pieces
    toClient: (d) => (d[0] === 22 && d[13] === 2 && lost++ === 0 ? [] : [d]),
    toServer: splitKeyExchange,
  });
  t.after(() => relay.close());
  const c = await connectDtls({ host: '127.0.0.1', port: relay.port, psk: { identity: 'dev1', key: KEY } });
  t.after(() => c.close());
  assert.ok(lost >= 2, 'the ServerHello flight went again');
  assert.ok(splits >= 1, 'the key exchange went in pieces');
  const got = heard(s);
  c.send(Buffer.from('through'));
  assert.equal(await got, 'through');
});

test('malformed datagrams get an alert or nothing, never a crash; the server serves on', async (t) => {
  const { s, address } = await server();
  t.after(() => s.close());
  const raw = createSocket('udp4');
  await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve));
  t.after(() => raw.close());
  const alerts: Buffer[] = [];
  raw.on('message', (d) => alerts.push(d));
  // a handshake record whose ClientHello claims more session id than it has
  const bad = Buffer.from('16fefd0000000000000000001a010000ee000000000000ee' + 'fefd' + '00'.repeat(0), 'hex');
  const alerted = once(raw, 'message', { signal: AbortSignal.timeout(10_000) });
  raw.send(bad, address.port, address.host);
  await alerted;
  assert.equal(alerts[0]![0], 21, 'an alert record');
  assert.deepEqual([...alerts[0]!.subarray(13)], [2, 50], 'fatal decode_error');
  for (const d of [Buffer.alloc(0), Buffer.of(22), Buffer.alloc(13, 0xff), Buffer.from('17fefd00010000000000010005aabbccddee', 'hex')])
    raw.send(d, address.port, address.host);
  const c = await connectDtls({ host: address.host, port: address.port, psk: { identity: 'dev1', key: KEY } });
  c.close();
  assert.equal(s.stats().peers >= 0 && s.stats().fullHandshakes, 1);
  assert.ok(s.stats().dropped.malformed >= 2);
});

test('candidate keys (a rotation): the new key and the old one both complete a handshake, the server says which; a third key fails', async (t) => {
  const OLD = Buffer.from('the-old-key-16-b');
  const s = createDtlsServer({ port: 0, psk: (id) => (id.toString() === 'dev1' ? [KEY, OLD] : undefined) });
  const address = await s.listen();
  t.after(() => s.close());
  const candidates: number[] = [];
  s.on('connection', (c: ServerConnection) => candidates.push(c.candidate));
  for (const key of [OLD, KEY]) {
    const c = await connectDtls({ host: '127.0.0.1', port: address.port, psk: { identity: 'dev1', key } });
    const got = heard(s);
    c.send(Buffer.from('hello'));
    assert.equal(await got, 'hello');
    c.close();
  }
  assert.deepEqual(candidates, [1, 0], 'the old key is the second candidate, the new the first');
  await assert.rejects(
    connectDtls({ host: '127.0.0.1', port: address.port, psk: { identity: 'dev1', key: Buffer.from('neither-of-them!') } }),
  );
  assert.equal(s.stats().failedHandshakes, 1);
});
