// The LwM2M bootstrap server on its own: an independent client (libcoap's coap-client-notls) sends
// the Bootstrap-Request and the server starts its server-initiated sequence on it; the identity
// binding a secured listener hands in (identityOf) decides which endpoint a bootstrap key opens.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';

import coap from 'coap';

import { Lwm2mBootstrapServer, SecurityMode } from '../../../src/adapters/lwm2m/bootstrap.ts';
import { bootstrapDecision } from '../../../src/gateway/lwm2m-bootstrap.ts';
import { Lwm2mCredentials } from '../../../src/gateway/lwm2m-credentials.ts';
import { SqliteGatewayStore } from '../../../src/store/sqlite/gateway.ts';

const CLIENT = '/usr/bin/coap-client-notls';
const run = promisify(execFile);

/** a free UDP port for the client to bind, so the server's requests reach it */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('coap-client-notls sends Bootstrap-Request (POST /bs?ep=…): 2.04, then the server sends Delete /0 to that client', {
  skip: existsSync(CLIENT) ? false : `${CLIENT} is missing: apt-get install -y libcoap3-bin`,
}, async (t) => {
  const asked: string[] = [];
  const bs = new Lwm2mBootstrapServer({
    port: 0,
    timeoutMs: 10_000,
    config: (endpoint) => {
      asked.push(endpoint);
      return endpoint === 'libcoap-bs'
        ? { accounts: [{ uri: 'coap://127.0.0.1:5683', securityMode: SecurityMode.NoSec, shortServerId: 1, lifetimeS: 60, binding: 'U' }] }
        : 'unknown';
    },
  });
  const { host, port } = await bs.listen();
  t.after(() => bs.close());
  const local = await freeUdpPort();
  const out = await run(CLIENT, ['-m', 'post', '-p', String(local), '-B', '4', `coap://${host}:${port}/bs?ep=libcoap-bs`]);
  assert.equal(out.stderr.includes('4.'), false, `the Bootstrap-Request was answered 2.04: ${out.stderr}`);
  assert.deepEqual(asked, ['libcoap-bs']);
  // coap-client ends at the 2.04; its address then hears the server's first request (a
  // retransmission of it, if the first went out before the client closed): Delete /0
  const socket = createSocket('udp4');
  t.after(() => socket.close());
  await new Promise<void>((r) => socket.bind(local, '127.0.0.1', () => r()));
  const [msg] = (await once(socket, 'message', { signal: AbortSignal.timeout(10_000) })) as [Buffer];
  assert.equal(msg[1], 0x04, 'code 0.04 DELETE');
  const options = msg.subarray(4 + (msg[0]! & 0x0f));
  // first option: Uri-Path (11), one byte, "0"
  assert.deepEqual([options[0]! >> 4, options[0]! & 0x0f, String.fromCharCode(options[1]!)], [11, 1, '0']);

  const unknown = await run(CLIENT, ['-m', 'post', '-B', '2', `coap://${host}:${port}/bs?ep=nobody`]).catch(
    (e: { stderr: string; stdout: string }) => e,
  );
  assert.match(`${unknown.stdout}${unknown.stderr}`, /4\.00|no bootstrap configuration/);
});

test('identity binding: a DTLS peer bootstraps only as the endpoint its bootstrap identity names', () => {
  const store = new SqliteGatewayStore(':memory:');
  const creds = new Lwm2mCredentials(store);
  for (const ep of ['dev-a', 'dev-b']) {
    creds.create(ep);
    creds.update(ep, {
      identity: ep,
      key: ep === 'dev-a' ? '00'.repeat(16) : '11'.repeat(16),
      bootstrap: { identity: `bs-${ep}`, key: '22'.repeat(16) },
    });
  }
  const refusals: string[] = [];
  const targets = { plain: 'coap://gw:5683', secure: 'coaps://gw:5684' };
  const decide = (ep: string, identity?: string) =>
    bootstrapDecision(creds, ep, { address: '10.0.0.9', port: 4000, ...(identity ? { identity } : {}) }, targets, (w) => refusals.push(w));
  assert.equal(decide('dev-b', 'bs-dev-a'), 'refused', "dev-a's bootstrap key does not open dev-b");
  assert.match(refusals[0]!, /bootstrap identity "bs-dev-a" is not "dev-b"'s/);
  assert.equal(decide('dev-a'), 'refused', 'plain CoAP: keys would travel in the clear');
  assert.equal(decide('nobody', 'bs-dev-a'), 'unknown');
  const ok = decide('dev-a', 'bs-dev-a');
  assert.ok(typeof ok === 'object');
  const [a] = ok.accounts;
  assert.equal(a!.uri, 'coaps://gw:5684');
  assert.equal(a!.securityMode, SecurityMode.Psk);
  assert.equal(new TextDecoder().decode(a!.identity), 'dev-a');
  assert.equal(Buffer.from(a!.secretKey!).toString('hex'), '00'.repeat(16));
  // no secured listener: a PSK device is not sent to the plain one
  assert.equal(
    bootstrapDecision(creds, 'dev-a', { address: '10.0.0.9', port: 4000, identity: 'bs-dev-a' }, { plain: 'coap://gw:5683' }, () => {}),
    'refused',
  );
  store.close();
});

test('malformed input: garbage datagrams, no ep, a control character in ep, another method or path, all answered, none starts a sequence', async (t) => {
  const asked: string[] = [];
  const bs = new Lwm2mBootstrapServer({ port: 0, config: (ep) => (asked.push(ep), 'unknown') });
  const { host, port } = await bs.listen();
  t.after(() => bs.close());
  const raw = createSocket('udp4');
  t.after(() => raw.close());
  for (const bytes of [Buffer.alloc(0), Buffer.from([0xff]), Buffer.from('not coap at all'), Buffer.alloc(1500, 0x41)])
    raw.send(bytes, port, host);
  const ask = (method: 'GET' | 'POST', path: string): Promise<string> => {
    const [pathname, query] = path.split('?') as [string, string | undefined];
    return new Promise((resolve, reject) => {
      const req = coap.request({ host, port, method, pathname, query: query ?? '' });
      req.on('response', (res: { code: string }) => resolve(res.code));
      req.on('error', reject);
      req.end();
    });
  };
  assert.equal(await ask('POST', '/bs'), '4.00');
  assert.equal(await ask('POST', '/bs?ep=a%01b'), '4.00');
  assert.equal(await ask('GET', '/bs?ep=x'), '4.05');
  assert.equal(await ask('POST', '/rd?ep=x'), '4.04');
  assert.equal(await ask('POST', '/bs?ep=known-not'), '4.00');
  assert.deepEqual(asked, ['known-not'], 'only a well-formed request reaches the configuration');
});

/** a CON POST /bs?ep=<ep> by hand (RFC 7252 §3), from a socket that never answers the server */
function bootstrapRequest(ep: string, mid: number): Buffer {
  const query = Buffer.from(`ep=${ep}`);
  assert.ok(query.length <= 12);
  return Buffer.concat([
    Buffer.from([0x40, 0x02, mid >> 8, mid & 0xff, 0xb2]),
    Buffer.from('bs'),
    Buffer.from([0x40 | query.length]),
    query,
  ]);
}

test('bounded: a repeated request while its sequence runs starts no second one; beyond maxRunning, 5.03', async (t) => {
  const asked = new Map<ReturnType<typeof createSocket>, Set<number>>();
  const bs = new Lwm2mBootstrapServer({
    port: 0,
    timeoutMs: 5000,
    maxRunning: 1,
    config: () => ({
      accounts: [{ uri: 'coap://127.0.0.1:5683', securityMode: SecurityMode.NoSec, shortServerId: 1, lifetimeS: 60, binding: 'U' }],
    }),
  });
  const { host, port } = await bs.listen();
  t.after(() => bs.close());
  const silent = createSocket('udp4');
  const other = createSocket('udp4');
  t.after(() => (silent.close(), other.close()));
  const codes = (s: ReturnType<typeof createSocket>): ((mid: number) => Promise<number>) => {
    const seen = new Map<number, number>();
    const waiters = new Map<number, (code: number) => void>();
    asked.set(s, new Set());
    s.on('message', (m: Buffer) => {
      // a request to us (the server's Delete /0): its message id, retransmissions counted once
      if (m[1]! < 0x40) return void asked.get(s)!.add((m[2]! << 8) | m[3]!);
      const mid = (m[2]! << 8) | m[3]!;
      seen.set(mid, m[1]!);
      waiters.get(mid)?.(m[1]!);
    });
    return (mid) => new Promise((resolve) => (seen.has(mid) ? resolve(seen.get(mid)!) : waiters.set(mid, resolve)));
  };
  const fromSilent = codes(silent);
  const fromOther = codes(other);
  silent.send(bootstrapRequest('x', 1), port, host);
  assert.equal(await fromSilent(1), 0x44, '2.04');
  silent.send(bootstrapRequest('x', 2), port, host);
  assert.equal(await fromSilent(2), 0x44, '2.04 again, nothing new started');
  other.send(bootstrapRequest('y', 3), port, host);
  assert.equal(await fromOther(3), 0xa3, '5.03: one sequence at a time here');
  // one sequence: its first request went to the silent socket, once; none to the refused one
  if (asked.get(silent)!.size === 0) await once(silent, 'message', { signal: AbortSignal.timeout(5000) });
  assert.equal(asked.get(silent)!.size, 1);
  assert.equal(asked.get(other)!.size, 0);
});
