// A long-running gwmo command runs with a capped V8 young generation (src/cli/runtime-flags.ts): it
// executes itself once more with the flag, keeping its pid, unless the operator chose a size.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { argvWithRuntimeFlags, SEMI_SPACE_MB } from '../../src/cli/runtime-flags.ts';
import { GwmoProcess } from '../support/process.ts';

const LONG = ['server', 'gateway', 'fleet'];
const FLAG = `--max-semi-space-size=${SEMI_SPACE_MB}`;

test('the cap goes before the script, after nothing the operator chose, for long-running commands only', () => {
  assert.deepEqual(argvWithRuntimeFlags(['node', 'main.ts', 'server', '--port', '0'], ['--import', 'x.ts'], undefined, LONG), [
    'node',
    FLAG,
    '--import',
    'x.ts',
    'main.ts',
    'server',
    '--port',
    '0',
  ]);
  assert.equal(argvWithRuntimeFlags(['node', 'main.ts', 'codec', 'xml2wbxml'], [], undefined, LONG), undefined);
  assert.equal(argvWithRuntimeFlags(['node', 'main.ts'], [], undefined, LONG), undefined);
  // already executed with it, or chosen by the operator: no second round
  assert.equal(argvWithRuntimeFlags(['node', 'main.ts', 'server'], [FLAG], undefined, LONG), undefined);
  assert.equal(argvWithRuntimeFlags(['node', 'main.ts', 'server'], ['--max_semi_space_size=32'], undefined, LONG), undefined);
  assert.equal(argvWithRuntimeFlags(['node', 'main.ts', 'gateway'], [], '--enable-source-maps --max-semi-space-size=2', LONG), undefined);
  assert.notEqual(argvWithRuntimeFlags(['node', 'main.ts', 'gateway'], [], '--max-old-space-size=96', LONG), undefined);
});

const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

test('gwmo server runs with the cap under the pid it was started with', async (t) => {
  const server = new GwmoProcess(['server', '--port', '0', '--db', ':memory:']);
  t.after(() => server.stop());
  await server.waitFor((l) => l.event === 'server.started', 30_000);
  const args = cmdline(server.child.pid!);
  assert.ok(args.includes(FLAG), args.join(' '));
  assert.ok(args.indexOf(FLAG) < args.findIndex((a) => a.endsWith('main.ts')), args.join(' '));
});

test("an operator's own size in NODE_OPTIONS is kept", async (t) => {
  const server = new GwmoProcess(['server', '--port', '0', '--db', ':memory:'], [], { NODE_OPTIONS: '--max-semi-space-size=2' });
  t.after(() => server.stop());
  await server.waitFor((l) => l.event === 'server.started', 30_000);
  assert.ok(!cmdline(server.child.pid!).includes(FLAG));
});
