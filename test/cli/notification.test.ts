// The CLI contract of issue 2, exactly as written there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { runCli } from '../support/cli.ts';

const v = JSON.parse(readFileSync(new URL('../vectors/notification/pkg0-vectors.json', import.meta.url), 'utf8'));
const ID = v.server_id as string;
const PW = v.server_password as string;
const ascii = v.cases[2]; // nonce = the ASCII text "0x00000000": expressible as --nonce text

test('decode prints the fields as JSON', async () => {
  const r = await runCli(['notification', 'decode', v.cases[3].package0_hex]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout.toString());
  assert.deepEqual(
    {
      digestHex: json.digestHex,
      version: json.version,
      uiMode: json.uiMode,
      initiator: json.initiator,
      sessionId: json.sessionId,
      serverId: json.serverId,
      bodyHex: json.bodyHex,
    },
    { digestHex: v.cases[3].digest_hex, version: 11, uiMode: 2, initiator: 'server', sessionId: 0x2a, serverId: ID, bodyHex: '' },
  );
});

test('verify exits 0 on a good digest and non-zero on a wrong password, nonce or server id', async () => {
  const ok = await runCli(['notification', 'verify', ascii.package0_hex, '--server-id', ID, '--password', PW, '--nonce', '0x00000000']);
  assert.equal(ok.code, 0, ok.stderr);
  for (const [flag, value] of [
    ['--password', 'nope'],
    ['--nonce', '0x00000001'],
    ['--server-id', 'other'],
  ] as const) {
    const args = { '--server-id': ID, '--password': PW, '--nonce': '0x00000000', [flag]: value };
    const r = await runCli(['notification', 'verify', ascii.package0_hex, ...Object.entries(args).flat()]);
    assert.notEqual(r.code, 0, flag);
    assert.match(r.stderr, /^gwmo: .+\n$/);
    assert.ok(!r.stderr.includes(PW) && !r.stderr.includes('nope'), 'no password in the error');
  }
});

test('encode reproduces the vector with --version 11, defaults to 12, and round-trips through decode and verify', async () => {
  const base = [
    'notification',
    'encode',
    '--server-id',
    ID,
    '--password',
    PW,
    '--nonce',
    '0x00000000',
    '--session-id',
    '4660',
    '--ui-mode',
    '1',
    '--initiator',
    'client',
  ];
  const r11 = await runCli([...base, '--version', '11']);
  assert.equal(r11.code, 0, r11.stderr);
  assert.equal(r11.stdout.toString().trim(), ascii.package0_hex);

  const r12 = await runCli([...base, '--vendor', 'CAFE']);
  const hex = r12.stdout.toString().trim();
  const decoded = JSON.parse((await runCli(['notification', 'decode', hex])).stdout.toString());
  assert.equal(decoded.version, 12);
  assert.equal(decoded.bodyHex, 'cafe');
  assert.equal((await runCli(['notification', 'verify', hex, '--server-id', ID, '--password', PW, '--nonce', '0x00000000'])).code, 0);
});

test('bad input: one line on stderr and exit 2, never a stack trace', async () => {
  const cases: string[][] = [
    ['notification', 'decode', 'not-hex'],
    ['notification', 'decode', '00112233'],
    ['notification', 'decode', v.cases[0].package0_hex.slice(0, 60)],
    [
      'notification',
      'encode',
      '--server-id',
      ID,
      '--password',
      PW,
      '--nonce',
      'n',
      '--session-id',
      '70000',
      '--ui-mode',
      '1',
      '--initiator',
      'server',
    ],
    [
      'notification',
      'encode',
      '--server-id',
      ID,
      '--password',
      PW,
      '--nonce',
      'n',
      '--session-id',
      '1',
      '--ui-mode',
      '1',
      '--initiator',
      'gateway',
    ],
    [
      'notification',
      'encode',
      '--server-id',
      ID,
      '--password',
      PW,
      '--nonce',
      'n',
      '--session-id',
      'x',
      '--ui-mode',
      '1',
      '--initiator',
      'server',
    ],
    [
      'notification',
      'encode',
      '--server-id',
      ID,
      '--password',
      PW,
      '--nonce',
      'n',
      '--session-id',
      '1',
      '--ui-mode',
      '9',
      '--initiator',
      'server',
    ],
  ];
  for (const args of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^gwmo: [^\n]+\n$/, args.join(' '));
  }
  const missing = await runCli(['notification', 'verify', v.cases[0].package0_hex]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /--server-id/);
});
