// `gwmo server` creates its first admin once: the password is shown on the first start only, or
// taken from GWMO_ADMIN_PASSWORD; the login works with it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { GwmoProcess } from '../support/process.ts';

async function login(api: string, password: string): Promise<number> {
  const res = await fetch(`${api}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'admin', password }),
  });
  return res.status;
}

test('first start: a generated admin password shown once; later starts show nothing and keep it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-auth-'));
  try {
    let password = '';
    for (const round of [1, 2]) {
      const server = new GwmoProcess(['server', '--port', '0', '--data-dir', dir]);
      try {
        const api = String((await server.waitFor((l) => l.event === 'server.started'))['api']);
        if (round === 1) {
          const m = /created the API user "admin" with password (\S+)/.exec(server.stderr);
          assert.ok(m, server.stderr);
          password = m[1]!;
          assert.equal(
            (await server.waitFor((l) => l.event === 'auth.admin-created'))['password'],
            'shown once on stderr',
            'the log never holds it',
          );
        } else {
          assert.doesNotMatch(server.stderr, /created the API user/);
        }
        assert.equal(await login(api, password), 200);
        assert.equal(await login(api, `${password}x`), 401);
      } finally {
        assert.equal(await server.stop(), 0);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('GWMO_ADMIN_PASSWORD sets the first admin password; a short one is refused with a message', async () => {
  const server = new GwmoProcess(['server', '--port', '0', '--db', ':memory:'], [], { GWMO_ADMIN_PASSWORD: 'from-the-environment' });
  try {
    const api = String((await server.waitFor((l) => l.event === 'server.started'))['api']);
    assert.equal(await login(api, 'from-the-environment'), 200);
    assert.doesNotMatch(server.stderr, /from-the-environment/);
  } finally {
    await server.stop();
  }
  const short = new GwmoProcess(['server', '--port', '0', '--db', ':memory:'], [], { GWMO_ADMIN_PASSWORD: 'short' });
  const code = await new Promise<number | null>((resolve) => short.child.once('exit', resolve));
  assert.equal(code, 2);
  assert.match(short.stderr, /^gwmo: GWMO_ADMIN_PASSWORD must have at least 10 characters\n$/);
});
