// `gwmo` starts at once: registering the commands loads none of their code, a command loads only its
// own, and bin/gwmo.js keeps compiled modules in the user's cache directory (or runs without one).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { run } from '../support/cli.ts';
import { freePort } from '../support/ports.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'gwmo.js');
const HOOK = join(ROOT, 'test', 'support', 'record-loads.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  loaded: string[];
}

/** `node bin/gwmo.js ARGS` with the modules it loaded, as paths under the checkout */
async function gwmo(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-startup-'));
  try {
    const file = join(dir, 'loaded.txt');
    writeFileSync(file, '');
    const { NODE_COMPILE_CACHE: _, ...inherited } = process.env;
    const r = await run([process.execPath, '--import', HOOK, BIN, ...args], {
      env: { ...inherited, XDG_CACHE_HOME: join(dir, 'cache'), GWMO_LOADED_FILE: file, ...env },
    });
    const loaded = readFileSync(file, 'utf8')
      .split('\n')
      .filter((u) => u.startsWith('file:'))
      .map((u) => fileURLToPath(u).slice(ROOT.length));
    return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr, loaded };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** what a command that only talks to the API or converts bytes has no use for */
const ROLES = /^src\/(server|gateway|client|store|api|web|sim|adapters|session|transport)\/|node_modules\/(pino|pg|coap|prom-client)\//;

test("gwmo --help lists the commands without loading any command's code, a role or the logger", async () => {
  const r = await gwmo(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: gwmo /);
  assert.ok(r.loaded.includes('src/cli/main.ts'), `a checkout runs its sources: ${r.loaded.join(' ')}`);
  assert.deepEqual(
    r.loaded.filter(
      (f) =>
        f.startsWith('src/') &&
        !/^src\/cli\/(main|program|config|log-level|cli-error|api-client|options|progress|runtime-flags)\.ts$|^src\/cli\/commands\//.test(
          f,
        ),
    ),
    [],
  );
  assert.deepEqual(
    r.loaded.filter((f) => ROLES.test(f) || f.startsWith('src/protocol/')),
    [],
  );
});

test('gwmo gateways devices loads the API client only, and fails fast without a server', async () => {
  const api = `http://127.0.0.1:${await freePort()}/api`;
  const r = await gwmo(['gateways', 'devices', 'GW:1', '--api', api]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `gwmo: cannot reach ${api}: ECONNREFUSED; is gwmo server running?\n`);
  assert.deepEqual(
    r.loaded.filter((f) => ROLES.test(f) || f.startsWith('src/protocol/')),
    [],
  );
});

test('gwmo codec loads the codecs on use, and no role', async () => {
  const r = await gwmo(['codec', 'xml2wbxml', join(ROOT, 'test/vectors/wbxml/02-pkg1-client-init-md5.xml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.loaded.includes('src/cli/run/codec.ts') && r.loaded.includes('src/protocol/wbxml/index.ts'), r.loaded.join(' '));
  assert.deepEqual(
    r.loaded.filter((f) => ROLES.test(f)),
    [],
  );
});

test("a command's code is loaded when it runs: gwmo server refuses --tls-cert alone from its own code", async () => {
  const r = await gwmo(['server', '--tls-cert', 'cert.pem', '--db', ':memory:']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'gwmo: --tls-cert and --tls-key go together\n');
  assert.ok(r.loaded.includes('src/cli/run/server.ts'), r.loaded.join(' '));
});

test("compiled modules are kept in the user's cache directory and reused", async () => {
  const cache = mkdtempSync(join(tmpdir(), 'gwmo-cache-'));
  try {
    const first = await gwmo(['--help'], { XDG_CACHE_HOME: cache });
    assert.equal(first.code, 0, first.stderr);
    const [versionDir] = readdirSync(join(cache, 'gwmo'));
    assert.ok(versionDir, 'a cache for this Node version');
    const entries = readdirSync(join(cache, 'gwmo', versionDir));
    assert.ok(entries.length >= first.loaded.filter((f) => f.endsWith('.ts')).length, `an entry per module: ${entries.length}`);
    const again = await gwmo(['--help'], { XDG_CACHE_HOME: cache });
    assert.equal(again.stdout, first.stdout);
    assert.deepEqual(readdirSync(join(cache, 'gwmo', versionDir)).sort(), entries.sort());
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('a cache directory that cannot be made costs only speed: gwmo still runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-cache-'));
  try {
    writeFileSync(join(dir, 'not-a-dir'), '');
    const r = await gwmo(['--help'], { XDG_CACHE_HOME: join(dir, 'not-a-dir') });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^Usage: gwmo /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
