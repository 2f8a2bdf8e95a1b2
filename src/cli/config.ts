// Configuration for the long-running commands, worked out from commander's option definitions:
// flags > environment (GWMO_<OPTION>) > config file (--config, JSON) > defaults. Values from the
// environment and the file are checked here, and a bad one names where it came from.
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';

import { CliError } from './cli-error.ts';
import { isLogLevel, LOG_LEVELS, setLogLevel } from './log-level.ts';

/** option values whose choices the definition does not carry (the actions check flags themselves) */
const CHOICES: Record<string, readonly string[]> = {
  '--auth': ['basic', 'md5', 'hmac'],
  '--encoding': ['xml', 'wbxml'],
  '--protocol': ['dm', 'lwm2m'],
  '--log-level': LOG_LEVELS,
};

/** GWMO_DATA_DIR for --data-dir */
export function envName(option: Option): string {
  return `GWMO_${option.long!.slice(2).toUpperCase().replace(/-/g, '_')}`;
}

/** Adds --config and --log-level to a command and applies file, environment and level before its action. */
export function withConfig(cmd: Command): Command {
  if (!cmd.options.some((o) => o.long === '--config'))
    cmd.option(
      '--config <file>',
      'JSON file with any of these options (keys as flags without "--", or camelCase); flags and GWMO_* env win',
    );
  cmd.option('--log-level <level>', `${LOG_LEVELS.join(', ')} (JSON log lines on stdout)`, 'info');
  cmd.hook('preAction', (_self, action) => applyConfig(action, process.env));
  return cmd;
}

export function applyConfig(cmd: Command, env: NodeJS.ProcessEnv): void {
  const options = cmd.options.filter((o) => o.long !== undefined && o.long !== '--help');
  const configOption = options.find((o) => o.long === '--config')!;
  const fromCli = (o: Option): boolean => cmd.getOptionValueSource(o.attributeName()) === 'cli';
  let file: string | undefined = cmd.getOptionValue('config') as string | undefined;
  if (!fromCli(configOption) && env[envName(configOption)]) file = env[envName(configOption)];
  const fileValues = file === undefined ? {} : readConfigFile(file, options);
  for (const o of options) {
    if (o === configOption || fromCli(o)) continue;
    const name = envName(o);
    const raw = env[name];
    if (raw !== undefined && raw !== '') {
      // an empty variable counts as unset
      cmd.setOptionValueWithSource(o.attributeName(), checked(o, fromEnv(o, raw, name), `environment ${name}:`), 'env');
    } else if (o.attributeName() in fileValues) {
      cmd.setOptionValueWithSource(o.attributeName(), fileValues[o.attributeName()], 'config');
    }
  }
  const level = String(cmd.getOptionValue('logLevel'));
  if (!isLogLevel(level)) throw new CliError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  setLogLevel(level);
}

function readConfigFile(path: string, options: readonly Option[]): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(
      `config file ${path}: ${err instanceof SyntaxError ? `not JSON: ${err.message}` : `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new CliError(`config file ${path}: must hold a JSON object of options`);
  const byKey = new Map<string, Option>();
  for (const o of options) {
    if (o.long === '--config') continue;
    byKey.set(o.attributeName(), o);
    byKey.set(o.long!.slice(2), o);
  }
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const o = byKey.get(key);
    if (o === undefined) {
      const known = [...new Set([...byKey.values()].map((x) => x.long!.slice(2)))].join(', ');
      throw new CliError(`config file ${path}: unknown key "${key}" (known: ${known})`);
    }
    const where = `config file ${path}: "${key}"`;
    if (o.isBoolean()) {
      if (typeof value !== 'boolean') throw new CliError(`${where} must be true or false`);
      values[o.attributeName()] = value;
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number') throw new CliError(`${where} must be a string or a number`);
    values[o.attributeName()] = checked(o, String(value), where);
  }
  return values;
}

function fromEnv(o: Option, raw: string, name: string): string | boolean {
  if (!o.isBoolean()) return raw;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off|)$/i.test(raw)) return false;
  throw new CliError(`environment ${name}: must be true or false, got "${raw}"`);
}

/** What the definition tells about a value: a port by its name, a number by its numeric default, choices. */
function checked<T extends string | boolean>(o: Option, value: T, where: string): T {
  if (typeof value === 'boolean') return value;
  const long = o.long!;
  const choices = CHOICES[long] ?? o.argChoices;
  if (choices && !choices.includes(value)) throw new CliError(`${where} must be one of ${choices.join(', ')}, got "${value}"`);
  if (/-port$/.test(long)) {
    // an option whose description offers "off" takes it (--lwm2m-port)
    const n = Number(value);
    const ok = (value === 'off' && o.description.includes('"off"')) || (value.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= 65535);
    if (!ok) throw new CliError(`${where} must be a port number (0-65535), got "${value}"`);
  } else if (typeof o.defaultValue === 'string' && /^\d+(\.\d+)?$/.test(o.defaultValue)) {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new CliError(`${where} must be a number ≥ 0, got "${value}"`);
  }
  return value;
}
