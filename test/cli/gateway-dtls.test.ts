// `gwmo gateway --lwm2m-dtls-port … --lwm2m-secure-only --lwm2m-psk-file …`: libcoap's OpenSSL
// client registers over coaps:// with a key from the file; as another endpoint it is refused and
// logged; `gwmo device --psk-identity --psk-key` registers over coaps://; a malformed PSK file
// stops the start with one line.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { GwmoProcess } from '../support/process.ts';

const run = promisify(execFile);
const CLIENT = '/usr/bin/coap-client-openssl';

function gatewayArgs(dir: string, pskFile: string): string[] {
  return [
    'gateway',
    '--server-url',
    'http://127.0.0.1:9/dm',
    '--password',
    'gw-pw',
    '--server-password',
    'srv-pw',
    '--device-password',
    'lan-pw',
    '--lan-port',
    '0',
    '--lwm2m-port',
    '0',
    '--lwm2m-dtls-port',
    '0',
    '--lwm2m-secure-only',
    '--lwm2m-psk-file',
    pskFile,
    '--check-in',
    '0',
    '--data-dir',
    join(dir, 'gw'),
  ];
}

test('gwmo gateway serves coaps:// only, with the PSKs of --lwm2m-psk-file; the identity decides the endpoint', {
  skip: existsSync(CLIENT) ? false : `${CLIENT} is missing: apt-get install -y libcoap3-bin`,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-dtls-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const psk = join(dir, 'psk.txt');
  writeFileSync(psk, `# identity endpoint hexkey\nmeter-17-id meter-17 ${Buffer.from('meter-17-secret!').toString('hex')}\n`);
  const gw = new GwmoProcess(gatewayArgs(dir, psk));
  t.after(() => gw.stop());
  const started = await gw.waitFor((l) => l.event === 'gateway.started');
  assert.equal(started['lwm2m'], null, 'no plain CoAP listener');
  const url = String(started['lwm2mSecure']);
  assert.match(url, /^coaps:\/\/127\.0\.0\.1:\d+$/);
  const ok = await run(CLIENT, [
    '-m',
    'post',
    '-u',
    'meter-17-id',
    '-k',
    'meter-17-secret!',
    '-B',
    '10',
    '-e',
    '</3/0>',
    `${url}/rd?ep=meter-17&lt=60`,
  ]);
  assert.doesNotMatch(ok.stdout + ok.stderr, /4\.\d\d/);
  const other = await run(CLIENT, [
    '-m',
    'post',
    '-u',
    'meter-17-id',
    '-k',
    'meter-17-secret!',
    '-B',
    '10',
    '-e',
    '</3/0>',
    `${url}/rd?ep=meter-18&lt=60`,
  ]);
  assert.match(other.stdout + other.stderr, /4\.03/);
  const refused = await gw.waitFor((l) => l.event === 'lwm2m.refused');
  assert.deepEqual([refused['endpoint'], refused['identity']], ['meter-18', 'meter-17-id']);
  // gwmo device speaks coaps:// with the same key
  const device = new GwmoProcess([
    'device',
    '--protocol',
    'lwm2m',
    '--device-id',
    'meter-17',
    '--server-url',
    url,
    '--psk-identity',
    'meter-17-id',
    '--psk-key',
    Buffer.from('meter-17-secret!').toString('hex'),
  ]);
  t.after(() => device.stop());
  await device.waitFor((l) => l.event === 'device.started', 30_000);
});

test('a malformed --lwm2m-psk-file stops the gateway with one line naming the line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-dtls-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const psk = join(dir, 'psk.txt');
  writeFileSync(psk, 'meter-17-id meter-17 not-hex\n');
  const gw = new GwmoProcess(gatewayArgs(dir, psk));
  const code = await new Promise<number | null>((resolve) => gw.child.once('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(gw.stderr, /--lwm2m-psk-file .*psk\.txt line 1: expected "identity endpoint hexkey"/);
});

test('an identity or endpoint twice in --lwm2m-psk-file, or a plain bootstrap port with --lwm2m-secure-only, is one line and no start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-dtls-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const psk = join(dir, 'psk.txt');
  writeFileSync(psk, 'id-1 meter-1 00112233445566778899aabbccddeeff\nid-1 meter-2 00112233445566778899aabbccddeeff\n');
  for (const [args, why] of [
    [gatewayArgs(dir, psk), /psk\.txt line 2: identity id-1 or endpoint meter-2 is on an earlier line/],
    [
      [...gatewayArgs(dir, join(dir, 'none.txt')), '--lwm2m-bootstrap-port', '0'],
      /--lwm2m-bootstrap-port is plain CoAP, which --lwm2m-secure-only turns off/,
    ],
  ] as const) {
    writeFileSync(join(dir, 'none.txt'), '');
    const gw = new GwmoProcess([...args]);
    const code = await new Promise<number | null>((resolve) => gw.child.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(gw.stderr, why);
  }
});
