// `gwmo fanout` and `gwmo images upload|stage` against a live server and gateway: they follow the
// operation to its end with progress lines on stderr (not a terminal) and the result on stdout.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { runCli } from '../support/cli.ts';
import { GW_ID, startRig } from '../support/gw-pair.ts';

test('gwmo fanout runs a job on three devices and follows it to the end', async (t) => {
  const { srv, devices } = await startRig(t, { devices: 3 });
  const ids = devices.map((_, i) => `IMEI:${String(i).padStart(15, '0')}`);
  const r = await runCli(
    [
      'fanout',
      GW_ID,
      '--api',
      srv.url.replace(/\/dm$/, '/api'),
      '--name',
      'mods',
      '--every',
      '0.2',
      '--device',
      ...ids,
      '--command',
      '{"kind":"Get","path":"./DevInfo/Mod"}',
    ],
    undefined,
    60_000,
  );
  assert.equal(r.code, 0, r.stderr);
  const end = JSON.parse(r.stdout.toString()) as { State: string; Aggregate: Record<string, string> };
  assert.deepEqual([end.State, end.Aggregate], ['30', { 200: '3' }]);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.ok(lines.length >= 1 && lines.every((l) => /^progress \d\/3 devices \(fanout mods\)$/.test(l)), r.stderr);
  assert.equal(lines.at(-1), 'progress 3/3 devices (fanout mods)');
});

test('gwmo fanout without targets is refused with one line', async () => {
  const r = await runCli(['fanout', GW_ID, '--command', '{"kind":"Get","path":"./DevInfo/Mod"}']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'gwmo: give the targets: --device <id...> and/or --group <name...>\n');
});

test('gwmo images upload, then stage on a gateway with the download followed', async (t) => {
  const { dir, srv } = await startRig(t, { images: true });
  const bytes = randomBytes(300_000);
  writeFileSync(join(dir, 'fw.bin'), bytes);
  const api = ['--api', srv.url.replace(/\/dm$/, '/api')];
  const up = await runCli(['images', 'upload', join(dir, 'fw.bin'), '--name', 'fw', '--version', '2', ...api]);
  assert.equal(up.code, 0, up.stderr);
  const sha = (JSON.parse(up.stdout.toString()) as { sha256: string }).sha256;
  assert.equal(sha, createHash('sha256').update(bytes).digest('hex'));
  const r = await runCli(['images', 'stage', GW_ID, sha, '--name', 'fw2', '--every', '0.2', ...api], undefined, 60_000);
  assert.equal(r.code, 0, r.stderr);
  const end = JSON.parse(r.stdout.toString()) as { name: string; State: string; BytesReceived: string };
  assert.deepEqual([end.name, end.State, end.BytesReceived], ['fw2', '30', String(bytes.length)]);
  assert.equal(
    r.stderr
      .split('\n')
      .filter((l) => l !== '')
      .at(-1),
    `progress ${bytes.length}/${bytes.length} bytes (image fw2)`,
  );
  const missing = await runCli(['images', 'upload', join(dir, 'nope.bin'), '--name', 'x', ...api]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^gwmo: cannot read .*nope\.bin: ENOENT\n$/);
});
