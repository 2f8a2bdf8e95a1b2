// --config, GWMO_* and flags: precedence and validation, on a command built like the real ones.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { Command } from 'commander';

import { applyConfig, withConfig } from '../../src/cli/config.ts';
import { runCli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'gwmo-config-'));
const file = (name: string, content: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

/** a command shaped like `gwmo server`, parsed from `args` and configured from `env` */
function configured(args: string[], env: Record<string, string> = {}): Record<string, unknown> {
  const cmd = withConfig(
    new Command('server')
      .exitOverride()
      .option('--host <address>', 'address', '127.0.0.1')
      .option('--port <n>', 'TCP port', '8080')
      .option('--lwm2m-port <n>', 'UDP port ("off" = none)', '5683')
      .option('--session-timeout <seconds>', 'idle timeout', '300')
      .option('--data-dir <dir>', 'data', './data')
      .option('--auth <scheme>', 'scheme', 'md5')
      .option('--push-channel', 'long-poll'),
  );
  cmd.parse(args, { from: 'user' });
  applyConfig(cmd, env);
  return cmd.opts();
}

test('defaults apply when no file, environment or flag says otherwise', () => {
  const o = configured([]);
  assert.deepEqual([o['port'], o['dataDir'], o['logLevel'], o['pushChannel']], ['8080', './data', 'info', undefined]);
});

test('a config file sets options by flag name or camelCase; numbers and booleans are taken', () => {
  const path = file('a.json', { port: 9000, 'data-dir': '/srv/gwmo', sessionTimeout: 60, pushChannel: true, 'lwm2m-port': 'off' });
  const o = configured(['--config', path]);
  assert.deepEqual(
    [o['port'], o['dataDir'], o['sessionTimeout'], o['pushChannel'], o['lwm2mPort']],
    ['9000', '/srv/gwmo', '60', true, 'off'],
  );
});

test('the environment wins over the file, and flags win over both', () => {
  const path = file('b.json', { port: 9000, host: '0.0.0.0', 'data-dir': '/from/file' });
  const o = configured(['--config', path, '--port', '9002'], { GWMO_PORT: '9001', GWMO_DATA_DIR: '/from/env', GWMO_PUSH_CHANNEL: 'true' });
  assert.deepEqual([o['port'], o['dataDir'], o['host'], o['pushChannel']], ['9002', '/from/env', '0.0.0.0', true]);
});

test('an empty variable counts as unset', () => {
  assert.equal(configured([], { GWMO_PORT: '' })['port'], '8080');
});

test('GWMO_CONFIG names the file when --config is not given', () => {
  const path = file('c.json', { host: '::1' });
  assert.equal(configured([], { GWMO_CONFIG: path })['host'], '::1');
});

const refusals: { name: string; content?: unknown; env?: Record<string, string>; args?: string[]; error: RegExp }[] = [
  { name: 'an unknown key', content: { prot: 1 }, error: /^config file .*: unknown key "prot" \(known: host, port, .*\)$/ },
  {
    name: 'a port out of range',
    content: { port: 70000 },
    error: /^config file .*: "port" must be a port number \(0-65535\), got "70000"$/,
  },
  {
    name: 'a word where a number goes',
    content: { 'session-timeout': 'soon' },
    error: /"session-timeout" must be a number ≥ 0, got "soon"/,
  },
  { name: 'a value outside the choices', content: { auth: 'plain' }, error: /"auth" must be one of basic, md5, hmac, got "plain"/ },
  { name: 'a non-boolean for a switch', content: { pushChannel: 'yes' }, error: /"pushChannel" must be true or false/ },
  { name: 'an object value', content: { host: { a: 1 } }, error: /"host" must be a string or a number/ },
  { name: 'a file that is not JSON', content: '{port: 1', error: /^config file .*: not JSON: / },
  { name: 'a file holding an array', content: [1], error: /must hold a JSON object of options/ },
  {
    name: 'a bad port in the environment',
    env: { GWMO_PORT: 'http' },
    error: /^environment GWMO_PORT: must be a port number \(0-65535\), got "http"$/,
  },
  {
    name: 'a bad switch in the environment',
    env: { GWMO_PUSH_CHANNEL: 'maybe' },
    error: /^environment GWMO_PUSH_CHANNEL: must be true or false/,
  },
  {
    name: 'a bad --log-level flag',
    args: ['--log-level', 'loud'],
    error: /^--log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"$/,
  },
];
for (const r of refusals) {
  test(`${r.name} is refused with a message naming where it came from`, () => {
    const args = [
      ...(r.content !== undefined ? ['--config', file(`${r.name.replace(/\W/g, '_')}.json`, r.content)] : []),
      ...(r.args ?? []),
    ];
    assert.throws(
      () => configured(args, r.env ?? {}),
      (err: Error & { exitCode?: number }) => {
        assert.match(err.message, r.error);
        assert.equal(err.exitCode, 2);
        return true;
      },
    );
  });
}

test('gwmo server with a bad config file exits 2 with one line', async () => {
  const r = await runCli(['server', '--config', file('bad-port.json', { port: 'x' })]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^gwmo: config file .*bad-port\.json: "port" must be a port number \(0-65535\), got "x"\n$/);
});

test('every long-running command takes --config and --log-level', async () => {
  for (const cmd of ['server', 'gateway', 'device', 'fleet', 'demo']) {
    const r = await runCli([cmd, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /--config <file>[\s\S]*--log-level <level>/, cmd);
  }
});
