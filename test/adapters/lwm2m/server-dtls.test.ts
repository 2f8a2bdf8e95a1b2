// The LwM2M server over DTLS (coaps://): libcoap's clients (OpenSSL and GnuTLS builds, each
// mandatory PSK suite) and the simulated device register through the gateway's secured listener;
// the PSK identity decides the endpoint; requests to the device go through its association.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { type Registration, Lwm2mServer } from '../../../src/adapters/lwm2m/server.ts';
import { Lwm2mCredentials } from '../../../src/gateway/lwm2m-credentials.ts';
import { startSecureLwm2m } from '../../../src/gateway/lwm2m-secure.ts';
import { SqliteGatewayStore } from '../../../src/store/sqlite/gateway.ts';
import { Lwm2mDevice } from '../../../src/sim/lwm2m-device.ts';
import { Suite, type SuiteId } from '../../../src/transport/dtls/index.ts';

const run = promisify(execFile);
const KEY = 'lwm2m-psk-0123456789';

async function secured(suites?: readonly SuiteId[], nosec = false) {
  const credentials = new Lwm2mCredentials(new SqliteGatewayStore(':memory:'));
  credentials.create('dev1');
  credentials.update('dev1', { identity: 'id-dev1', key: Buffer.from(KEY).toString('hex') });
  const logged: { event: string; fields: Record<string, unknown> }[] = [];
  const secure = await startSecureLwm2m({
    host: '127.0.0.1',
    port: 0,
    credentials,
    ...(suites ? { suites } : {}),
    log: (event, fields) => logged.push({ event, fields }),
  });
  const server = new Lwm2mServer({ port: 0, nosec, secure: secure.listener, timeoutMs: 5000 });
  const plain = await server.listen();
  const refused: Record<string, unknown>[] = [];
  server.on('refused', (e: Record<string, unknown>) => refused.push(e));
  return {
    server,
    secure,
    plain,
    refused,
    logged,
    credentials,
    url: `coaps://${secure.address}`,
    async close() {
      await server.close();
      await secure.dtls.close();
    },
  };
}

for (const [client, suite] of [
  ['openssl', Suite.PSK_AES_128_CCM_8],
  ['openssl', Suite.PSK_AES_128_CBC_SHA256],
  ['gnutls', Suite.PSK_AES_128_CCM_8],
  ['gnutls', Suite.PSK_AES_128_CBC_SHA256],
] as const) {
  const bin = `/usr/bin/coap-client-${client}`;
  test(`coap-client-${client} registers over DTLS with ${suite === Suite.PSK_AES_128_CCM_8 ? 'PSK-AES128-CCM8' : 'PSK-AES128-CBC-SHA256'}; as another endpoint it gets 4.03`, {
    skip: existsSync(bin) ? false : `${bin} is missing: apt-get install -y libcoap3-bin`,
  }, async (t) => {
    const s = await secured([suite]);
    t.after(() => s.close());
    const negotiated: unknown[] = [];
    s.secure.dtls.on('connection', (c: { suite: number }) => negotiated.push(c.suite));
    const registered = once(s.server, 'registered', { signal: AbortSignal.timeout(10_000) }) as Promise<[Registration]>;
    await run(bin, ['-m', 'post', '-u', 'id-dev1', '-k', KEY, '-B', '10', '-e', '</3/0>', `${s.url}/rd?ep=dev1&lt=60`]);
    const [reg] = await registered;
    assert.equal(reg.endpoint, 'dev1');
    assert.equal(reg.identity, 'id-dev1');
    assert.deepEqual(negotiated, [suite]);
    const other = await run(bin, ['-m', 'post', '-u', 'id-dev1', '-k', KEY, '-B', '10', '-e', '</3/0>', `${s.url}/rd?ep=dev2&lt=60`]);
    assert.match(other.stdout + other.stderr, /4\.03/);
    assert.equal(s.server.registration('dev2'), undefined);
    assert.deepEqual(
      s.refused.map((r) => [r.endpoint, r.identity]),
      [['dev2', 'id-dev1']],
    );
  });
}

test('a wrong key completes no handshake and registers nothing; the failure is logged without the key', {
  skip: existsSync('/usr/bin/coap-client-openssl') ? false : 'libcoap3-bin is missing',
}, async (t) => {
  const s = await secured();
  t.after(() => s.close());
  const failed = once(s.secure.dtls, 'handshakeFailed', { signal: AbortSignal.timeout(10_000) });
  await run('/usr/bin/coap-client-openssl', [
    '-m',
    'post',
    '-u',
    'id-dev1',
    '-k',
    'not-the-key',
    '-B',
    '3',
    '-e',
    '</3/0>',
    `${s.url}/rd?ep=dev1`,
  ]).catch(() => undefined);
  await failed;
  assert.equal(s.server.registrations().length, 0);
  assert.equal(s.secure.dtls.stats().established, 0);
  const line = s.logged.find((l) => l.event === 'lwm2m.dtls.failed');
  assert.equal(line?.fields.identity, 'id-dev1');
  assert.equal(JSON.stringify(s.logged).includes(KEY), false);
});

test('the simulated device registers over coaps://, the server reads and writes it through the association, and NoSec is off', async (t) => {
  const s = await secured();
  t.after(() => s.close());
  const device = new Lwm2mDevice({
    endpoint: 'dev1',
    server: s.url,
    psk: { identity: 'id-dev1', key: Buffer.from(KEY) },
    manufacturer: 'Acme',
    model: 'S',
    firmware: '1',
  });
  const registered = once(s.server, 'registered', { signal: AbortSignal.timeout(10_000) });
  await device.start();
  t.after(() => device.stop());
  await registered;
  const read = await s.server.request('dev1', 'GET', { objectId: 3, instanceId: 0, resourceId: 0 }, undefined, 0);
  assert.equal(read.code, '2.05');
  assert.equal(Buffer.from(read.payload).toString(), 'Acme');
  const write = await s.server.request(
    'dev1',
    'PUT',
    { objectId: 3303, instanceId: 0, resourceId: 5750 },
    { format: 0, payload: Buffer.from('hall') },
  );
  assert.equal(write.code, '2.04');
  // nosec: false: nothing listens in the clear, the registration cannot be taken over by plain CoAP
  assert.equal(s.plain.port, Number(s.url.split(':').at(-1)));
});

test('a NoSec client cannot update or take over an endpoint registered over DTLS', async (t) => {
  const s = await secured(undefined, true);
  t.after(() => s.close());
  const device = new Lwm2mDevice({
    endpoint: 'dev1',
    server: s.url,
    psk: { identity: 'id-dev1', key: Buffer.from(KEY) },
    manufacturer: 'Acme',
    model: 'S',
    firmware: '1',
  });
  const registered = once(s.server, 'registered', { signal: AbortSignal.timeout(10_000) }) as Promise<[Registration]>;
  await device.start();
  t.after(() => device.stop());
  const [reg] = await registered;
  const plain = `coap://${s.plain.host}:${s.plain.port}`;
  const take = await run('/usr/bin/coap-client-notls', ['-m', 'post', '-B', '3', '-e', '</3/0>', `${plain}/rd?ep=dev1`]);
  assert.match(take.stdout + take.stderr, /4\.03/);
  const update = await run('/usr/bin/coap-client-notls', ['-m', 'post', '-B', '3', `${plain}/rd/${reg.id}`]);
  assert.match(update.stdout + update.stderr, /4\.03/);
  assert.equal(s.server.registration('dev1')?.identity, 'id-dev1');
});
