// bin/gwmo.js runs the sources in a checkout and the built JavaScript in an installed package (Node
// strips no types under node_modules), and says what is missing instead of failing on a .ts file.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { run } from '../support/cli.ts';

const BIN = fileURLToPath(new URL('../../bin/gwmo.js', import.meta.url));

/** a package at `dir` with bin/gwmo.js and entries that print which one ran */
function fakePackage(dir: string, entries: { src?: boolean; dist?: boolean }): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(BIN, join(dir, 'bin', 'gwmo.js'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  if (entries.src) {
    mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
    writeFileSync(join(dir, 'src', 'cli', 'main.ts'), 'const from: string = "src";\nconsole.log(from);\n');
  }
  if (entries.dist) {
    mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'cli', 'main.js'), 'console.log("dist");\n');
  }
  return join(dir, 'bin', 'gwmo.js');
}

test('bin/gwmo.js: a checkout runs src/ even when a dist/ was built; an installed copy runs dist/', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'gwmo-entry-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const checkout = await run([process.execPath, fakePackage(join(tmp, 'checkout'), { src: true, dist: true })]);
  assert.deepEqual([checkout.code, checkout.stdout.toString(), checkout.stderr], [0, 'src\n', '']);
  const installed = await run([
    process.execPath,
    fakePackage(join(tmp, 'prefix', 'lib', 'node_modules', 'gwmo'), { src: true, dist: true }),
  ]);
  assert.deepEqual([installed.code, installed.stdout.toString(), installed.stderr], [0, 'dist\n', '']);
});

test('bin/gwmo.js under node_modules without dist/ names what is missing, and runs no .ts file', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'gwmo-entry-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const r = await run([process.execPath, fakePackage(join(tmp, 'node_modules', 'gwmo'), { src: true })]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout.toString(), '');
  assert.match(r.stderr, /^gwmo: .*\/node_modules\/gwmo\/dist\/cli\/main\.js is missing: under node_modules Node runs no TypeScript/);
});
