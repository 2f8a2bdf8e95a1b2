// Log lines are JSON with a level; --log-level filters them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { levelOf } from '../../src/cli/log.ts';
import { runCli } from '../support/cli.ts';
import { GwmoProcess } from '../support/process.ts';
import { freePort } from '../support/ports.ts';

test('info lines carry level, time, role and the event name', async (t) => {
  const server = new GwmoProcess(['server', '--port', '0', '--db', ':memory:']);
  t.after(() => server.stop());
  const started = await server.waitFor((l) => l.event === 'server.started');
  assert.equal(started['level'], 'info');
  assert.equal(started['role'], 'server');
  assert.match(String(started['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('--log-level warn hides info lines and keeps warnings', async (t) => {
  const port = await freePort();
  const server = new GwmoProcess(['server', '--port', String(port), '--db', ':memory:', '--log-level', 'warn']);
  t.after(() => server.stop());
  // the server is up when it answers; an undecodable DM message is refused with a warning
  const refused = server.waitFor((l) => l.event === 'dm.refused');
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/dm`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.syncml.dm+xml' },
      body: '<SyncML>',
    }).then(
      (r) => r.status === 400,
      () => false,
    );
    if (ok || Date.now() > deadline) break;
    await new Promise((resolve) => setImmediate(resolve)); // retry until the listener is up (connection refused until then)
  }
  assert.equal((await refused)['level'], 'warn');
  assert.deepEqual(
    server.lines.filter((l) => l['level'] === 'info'),
    [],
    'no info line at level warn',
  );
});

test('an invalid --log-level is refused with one line and exit code 2', async () => {
  const r = await runCli(['fleet', '--log-level', 'chatty']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'gwmo: --log-level must be one of trace, debug, info, warn, error, fatal, silent, got "chatty"\n');
});

test('errors log at error, refusals and failed attempts at warn, the rest at info', () => {
  const events = [
    'http.error',
    'job.error',
    'dm.refused',
    'enrol.refused',
    'auth.login-failed',
    'notification.invalid',
    'server.started',
    'fanout.progress',
    'auth.login',
  ];
  assert.deepEqual(events.map(levelOf), ['error', 'error', 'warn', 'warn', 'warn', 'warn', 'info', 'info', 'info']);
});
