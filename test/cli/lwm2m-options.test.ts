// The simulated LwM2M device's exchange flags (gwmo device --protocol lwm2m, gwmo fleet).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { lwm2mExchangeOptions, lwm2mSecurityOptions } from '../../src/cli/run/lwm2m-options.ts';
import { runCli } from '../support/cli.ts';

test('--block-size, --queue, --awake and --sleep become the device options', () => {
  assert.deepEqual(lwm2mExchangeOptions({ blockSize: '64', queue: true, awake: '2', sleep: '10-30' }), {
    blockSize: 64,
    queue: { awakeMs: 2000, sleepMs: [10_000, 30_000] },
  });
  assert.deepEqual(lwm2mExchangeOptions({ queue: true }), { queue: { awakeMs: 5000, sleepMs: [20_000, 40_000] } });
  assert.deepEqual(lwm2mExchangeOptions({}), {});
});

test('a block size that is not a CoAP block size, or --sleep without --queue, is one line and exit 2', async () => {
  const bad = await runCli(['fleet', '--protocol', 'lwm2m', '--server-url', 'coap://127.0.0.1:1', '--block-size', '100']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^gwmo: --block-size must be 16, 32, 64, 128, 256, 512 or 1024, got "100"/);
  const noQueue = await runCli(['fleet', '--protocol', 'lwm2m', '--server-url', 'coap://127.0.0.1:1', '--sleep', '5']);
  assert.equal(noQueue.code, 2);
  assert.match(noQueue.stderr, /--awake and --sleep apply with --queue/);
});

test('--bootstrap, --psk-identity, --psk: the bootstrap account; a key only with coaps://, in hex', async () => {
  assert.deepEqual(lwm2mSecurityOptions({ bootstrap: 'coap://127.0.0.1:5783' }), { bootstrap: { uri: 'coap://127.0.0.1:5783' } });
  assert.deepEqual(lwm2mSecurityOptions({ bootstrap: 'coaps://gw:5784', pskIdentity: 'bs-1', psk: 'AB'.repeat(16) }), {
    bootstrap: { uri: 'coaps://gw:5784', identity: 'bs-1', key: 'ab'.repeat(16) },
  });
  assert.deepEqual(lwm2mSecurityOptions({}), {});
  for (const [flags, why] of [
    [{ bootstrap: 'http://x' }, /--bootstrap must be coap:\/\/host:port or coaps:\/\/host:port/],
    [{ bootstrap: 'coaps://gw:5784' }, /needs --psk-identity and --psk/],
    [{ bootstrap: 'coap://gw:5783', pskIdentity: 'a', psk: 'ab'.repeat(16) }, /plain CoAP carries no key/],
    [{ bootstrap: 'coaps://gw:5784', pskIdentity: 'a', psk: 'xyz' }, /--psk must be 16–64 bytes in hex/],
    [{ pskIdentity: 'a' }, /go together/],
  ] as const)
    assert.throws(() => lwm2mSecurityOptions(flags), why);
  const bad = await runCli(['device', '--protocol', 'lwm2m', '--bootstrap', 'coaps://127.0.0.1:1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^gwmo: --bootstrap coaps:\/\/… needs --psk-identity and --psk/);
});
