// The package as operators install it: `npm pack`, `npm install -g` into a temporary prefix, then the
// installed `gwmo` (JavaScript from dist/, no sources) answers --help as the checkout does, serves the
// dashboard, holds a DM session between an installed server and an installed device, and runs a gateway.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { run, runCli } from '../support/cli.ts';
import { AUTH, GwmoProcess } from '../support/process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('npm pack, npm install -g, and the installed gwmo runs: --help, dashboard, a server, a device session and a gateway', {
  timeout: 240_000,
}, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'gwmo-package-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  // this Node first on PATH: npm's scripts (prepack) and the installed bin's `#!/usr/bin/env node` use it
  const { NODE_COMPILE_CACHE: _, ...inherited } = process.env;
  const env = {
    ...inherited,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`,
    npm_config_update_notifier: 'false',
  };

  const packed = await run(['npm', 'pack', '--pack-destination', tmp], { cwd: ROOT, env, timeoutMs: 150_000 });
  assert.equal(packed.code, 0, packed.stderr);
  const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  assert.ok(tgz, `npm pack made a tarball: ${packed.stdout.toString()}`);

  const prefix = join(tmp, 'prefix');
  const installed = await run(['npm', 'install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(tmp, tgz)], {
    env,
    timeoutMs: 120_000,
  });
  assert.equal(installed.code, 0, installed.stderr);
  const pkg = join(prefix, 'lib', 'node_modules', 'gwmo');
  assert.ok(
    existsSync(join(pkg, 'dist', 'cli', 'main.js')) && existsSync(join(pkg, 'dist', 'web', 'ui', 'index.html')),
    'the built JavaScript and the dashboard files',
  );
  assert.ok(!existsSync(join(pkg, 'src')) && !existsSync(join(pkg, 'test')), 'no sources or tests in the package');
  const gwmo = [join(prefix, 'bin', 'gwmo')];

  const help = await run([...gwmo, '--help'], { env });
  assert.equal(help.code, 0, help.stderr);
  assert.equal(help.stdout.toString(), (await runCli(['--help'])).stdout.toString(), 'the same commands as the checkout');

  const server = new GwmoProcess(['server', '--port', '0', '--data-dir', join(tmp, 'data')], [], { PATH: env.PATH }, { gwmo });
  t.after(() => server.stop());
  const started = await server.waitFor((l) => l.event === 'server.started', 30_000);
  const api = String(started['api']);
  const page = await fetch(api.replace(/\/api$/, '/'));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<html/i);
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { ...AUTH, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: await res.json() };
  };
  const id = 'IMEI:490154203237518';
  assert.equal(
    (
      await call('POST', '/devices', {
        deviceId: id,
        name: 'dev',
        password: 'dev-pw',
        serverName: 'gwmo',
        serverPassword: 'srv-pw',
        scheme: 'md5',
      })
    ).status,
    201,
  );
  const get = await call('POST', `/devices/${encodeURIComponent(id)}/operations`, { kind: 'Get', path: './DevInfo/Mod' });
  assert.equal(get.status, 201, JSON.stringify(get.json));

  const device = await run(
    [
      ...gwmo,
      'device',
      '--once',
      '--device-id',
      id,
      '--server-url',
      String(started['dm']),
      '--username',
      'dev',
      '--password',
      'dev-pw',
      '--server-password',
      'srv-pw',
      '--tree',
      ':memory:',
      '--model',
      'PACKAGED-1',
    ],
    { env, timeoutMs: 30_000 },
  );
  assert.equal(device.code, 0, device.stderr);
  const op = await call('GET', `/operations/${get.json.id}`);
  assert.deepEqual([op.json.state, op.json.status, op.json.results[0]?.value], ['done', 200, 'PACKAGED-1']);

  // a gateway from the installed copy, LwM2M (the coap dependency) on: its first session with the server
  assert.equal(
    (
      await call('POST', '/devices', {
        deviceId: 'GW:PKG',
        name: 'gateway',
        password: 'gw-pw',
        serverName: 'gwmo',
        serverPassword: 'srv-gw-pw',
        scheme: 'md5',
      })
    ).status,
    201,
  );
  const gateway = new GwmoProcess(
    [
      'gateway',
      '--device-id',
      'GW:PKG',
      '--server-url',
      String(started['dm']),
      '--password',
      'gw-pw',
      '--server-password',
      'srv-gw-pw',
      '--device-password',
      'lan-pw',
      '--lan-port',
      '0',
      '--lwm2m-port',
      '0',
      '--check-in',
      '0',
      '--data-dir',
      join(tmp, 'gateway'),
    ],
    [],
    { PATH: env.PATH },
    { gwmo },
  );
  t.after(() => gateway.stop());
  assert.equal((await gateway.waitFor((l) => l.event === 'north.session', 30_000))['end'], 'done');
  assert.match(String((await gateway.waitFor((l) => l.event === 'gateway.started'))['lwm2m']), /^coap:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(await gateway.stop(), 0, 'the installed gateway stops cleanly on SIGTERM');
  assert.equal(await server.stop(), 0, 'the installed server stops cleanly on SIGTERM');
});
