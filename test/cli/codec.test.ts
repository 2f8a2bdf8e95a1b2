import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { decodeWbxml } from '../../src/protocol/wbxml/index.ts';
import { decodeXml } from '../../src/protocol/xml/index.ts';
import { runCli } from '../support/cli.ts';

const xml = await readFile(new URL('../vectors/wbxml/02-pkg1-client-init-md5.xml', import.meta.url));
const wbxml = Buffer.from(
  (await readFile(new URL('../vectors/wbxml/03-pkg2-server-chal-get-replace.strtbl.hex', import.meta.url), 'utf8')).trim(),
  'hex',
);

test('xml2wbxml and wbxml2xml through stdin/stdout keep the message', async () => {
  const a = await runCli(['codec', 'xml2wbxml'], xml);
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(decodeWbxml(a.stdout), decodeXml(xml));
  const b = await runCli(['codec', 'wbxml2xml'], wbxml);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(decodeXml(b.stdout), decodeWbxml(wbxml));
});

test('files in and out, with --doctype', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-cli-'));
  try {
    await writeFile(join(dir, 'in.wbxml'), wbxml);
    const r = await runCli(['codec', 'wbxml2xml', '--doctype', join(dir, 'in.wbxml'), join(dir, 'out.xml')]);
    assert.equal(r.code, 0, r.stderr);
    const out = await readFile(join(dir, 'out.xml'), 'utf8');
    assert.match(out, /<!DOCTYPE SyncML PUBLIC "-\/\/SYNCML\/\/DTD SyncML 1\.2\/\/EN"/);
    assert.deepEqual(decodeXml(out), decodeWbxml(wbxml));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad input: one-line error naming the input and the error code, non-zero exit', async () => {
  const truncated = await runCli(['codec', 'wbxml2xml'], wbxml.subarray(0, 50));
  assert.notEqual(truncated.code, 0);
  assert.match(truncated.stderr, /^gwmo: stdin: .*\(WBXML_TRUNCATED\)\n$/);
  const malformed = await runCli(['codec', 'xml2wbxml'], Buffer.from('<SyncML><SyncHdr>'));
  assert.notEqual(malformed.code, 0);
  assert.match(malformed.stderr, /^gwmo: stdin: [^\n]+\((XML|DM)_[A-Z_]+\)\n$/);
  const missing = await runCli(['codec', 'xml2wbxml', '/nonexistent/in.xml']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /^gwmo: cannot read \/nonexistent\/in\.xml: ENOENT\n$/);
});
