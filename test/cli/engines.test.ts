// A machine whose system Node is older than 24 (Node 24 comes with the `node` dev dependency): the
// first `npm install` is quiet about engines, and `gwmo` run by the old Node says in one line what it needs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// npm scripts and npx put node_modules/.bin first: the system's own PATH is what is left
const SYSTEM_PATH = (process.env['PATH'] ?? '')
  .split(delimiter)
  .filter((d) => !d.includes('node_modules'))
  .join(delimiter);
const systemBin = (name: string): string | undefined =>
  SYSTEM_PATH.split(delimiter)
    .map((d) => join(d, name))
    .find((p) => existsSync(p));

const oldNode = ((): { node: string; npm: string | undefined; version: string } | undefined => {
  const node = systemBin('node');
  if (!node) return undefined;
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return Number(version.slice(1).split('.')[0]) < 24 ? { node, npm: systemBin('npm'), version } : undefined;
})();
const skip = oldNode ? false : 'the system Node on this machine is 24 or newer (or absent): nothing to check';

test('npm install with the system npm on an older Node prints no EBADENGINE warning', {
  skip: skip || (oldNode?.npm ? false : 'no system npm'),
}, () => {
  // --dry-run --offline: the engine check runs, node_modules and the lock file stay as they are
  const r = spawnSync(oldNode!.npm!, ['install', '--dry-run', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PATH: SYSTEM_PATH },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(`${r.stdout}${r.stderr}`, /EBADENGINE/i, `npm on Node ${oldNode!.version}`);
});

test('gwmo run by an older Node exits 1 with one line naming the Node it needs', { skip }, () => {
  const r = spawnSync(oldNode!.node, [join(ROOT, 'bin/gwmo.js'), '--help'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: SYSTEM_PATH },
    timeout: 30_000,
  });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /needs Node 24 or newer/);
});
