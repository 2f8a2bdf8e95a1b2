// Interop with libwbxml (Debian libwbxml2-utils), an independent WBXML implementation, over our
// corpus of realistic DM messages: libwbxml's encoding (with and without a string table) decodes
// with ours to the model our XML decoder gives; our encoding decodes with libwbxml to the source's
// element tree.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { decodeWbxml, decodeXml, encodeWbxml } from '../../src/protocol/index.ts';
import { firstDifference, xmlTree } from '../support/xml-tree.ts';

const run = promisify(execFile);
const CORPUS = new URL('../vectors/corpus/', import.meta.url);
const names = (await readdir(CORPUS)).filter((f) => f.endsWith('.xml')).sort();
let dir = '';

before(async () => {
  try {
    await run('xml2wbxml', ['-h']).catch((err: { code?: unknown }) => {
      if (err.code === 'ENOENT') throw err;
    });
  } catch {
    assert.fail('xml2wbxml is not installed: apt-get install libwbxml2-utils (.ci/run does)');
  }
  dir = await mkdtemp(join(tmpdir(), 'gwmo-libwbxml-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs jobs a few at a time: the machine has 2 cores. */
async function pool<T>(items: readonly T[], width: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await job(items[next++]!);
  }));
}

test('the corpus holds at least 40 messages', () => {
  assert.ok(names.length >= 40, `${names.length} messages`);
});

test('libwbxml encodes (string table on and off), we decode to the same model', async () => {
  await pool(names, 4, async (name) => {
    const src = join(CORPUS.pathname, name);
    const expected = decodeXml(await readFile(src));
    // -k: keep whitespace at the ends of text (libwbxml trims it by default; DM Data keeps it)
    for (const flags of [['-k'], ['-k', '-n']]) {
      const out = join(dir, `${name}${flags.join('')}.wbxml`);
      await run('xml2wbxml', ['-v', '1.2', ...flags, '-o', out, src]);
      assert.deepEqual(decodeWbxml(new Uint8Array(await readFile(out))), expected, `${name} ${flags.join(' ')}`);
    }
  });
});

test('we encode, libwbxml decodes to the element tree of the source', async () => {
  await pool(names, 4, async (name) => {
    const source = await readFile(join(CORPUS.pathname, name), 'utf8');
    const wbxml = join(dir, `${name}.ours.wbxml`);
    const back = join(dir, `${name}.back.xml`);
    await writeFile(wbxml, encodeWbxml(decodeXml(source)));
    await run('wbxml2xml', ['-m', '0', '-k', '-o', back, wbxml]);
    // libwbxml shows OPAQUE (our binary data) as CDATA: the tree treats CDATA as text
    const diff = firstDifference(xmlTree(source), xmlTree(await readFile(back, 'utf8')));
    assert.equal(diff, undefined, `${name}: ${diff}`);
  });
});
