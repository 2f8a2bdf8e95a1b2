// The simulated LwM2M device's options of `gwmo device --protocol lwm2m` and `gwmo fleet`, checked:
// --lwm2m-version and --lwm2m-formats; --block-size, --queue, --awake and --sleep.
import { LWM2M_FORMATS, LWM2M_VERSIONS, type Lwm2mDeviceOptions } from '../../sim/lwm2m-device.ts';
import { CliError } from '../cli-error.ts';
import { oneOf, positive } from '../options.ts';

export function lwm2mFormatOptions(
  version: string | undefined,
  formats: string | undefined,
): Pick<Lwm2mDeviceOptions, 'version' | 'formats'> {
  return {
    ...(version !== undefined ? { version: oneOf('--lwm2m-version', version, LWM2M_VERSIONS) } : {}),
    ...(formats !== undefined ? { formats: oneOf('--lwm2m-formats', formats, LWM2M_FORMATS) } : {}),
  };
}

export type Lwm2mExchangeOptions = Pick<Lwm2mDeviceOptions, 'blockSize' | 'queue'>;

export function lwm2mExchangeOptions(f: Readonly<Record<string, unknown>>): Lwm2mExchangeOptions {
  const s = (k: string): string | undefined => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
  const out: { blockSize?: number; queue?: NonNullable<Lwm2mDeviceOptions['queue']> } = {};
  const block = s('blockSize');
  if (block !== undefined) {
    const n = Number(block);
    // RFC 7959: SZX 0–6, blocks of 16 to 1024 bytes
    if (![16, 32, 64, 128, 256, 512, 1024].includes(n))
      throw new CliError(`--block-size must be 16, 32, 64, 128, 256, 512 or 1024, got "${block}"`);
    out.blockSize = n;
  }
  if (f['queue'] === true) {
    const awakeMs = positive('--awake', s('awake') ?? '5') * 1000;
    const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(s('sleep') ?? '20-40');
    if (!m) throw new CliError(`--sleep must be seconds or a range such as 20-40, got "${s('sleep')}"`);
    const min = Number(m[1]) * 1000;
    const max = m[2] !== undefined ? Number(m[2]) * 1000 : min;
    if (max < min) throw new CliError(`--sleep ${s('sleep')}: the range goes from low to high`);
    out.queue = { awakeMs, sleepMs: [min, max] };
  } else if (s('awake') !== undefined || s('sleep') !== undefined) throw new CliError('--awake and --sleep apply with --queue');
  return out;
}

const HEX_KEY = /^(?:[0-9a-fA-F]{2}){16,64}$/;

/**
 * --bootstrap, --psk-identity, --psk (alias --psk-key): the key goes with whichever account is
 * coaps://, the bootstrap account of a factory-fresh device or the --server-url account.
 */
export function lwm2mSecurityOptions(f: Readonly<Record<string, unknown>>): Pick<Lwm2mDeviceOptions, 'bootstrap' | 'psk'> {
  const s = (k: string): string | undefined => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
  const uri = s('bootstrap');
  const identity = s('pskIdentity');
  const key = s('psk') ?? s('pskKey');
  if ((identity === undefined) !== (key === undefined)) throw new CliError('--psk-identity and --psk go together');
  if (key !== undefined && !HEX_KEY.test(key)) throw new CliError('--psk must be 16–64 bytes in hex (e.g. openssl rand -hex 16)');
  if (uri === undefined) {
    const server = s('serverUrl') ?? '';
    if (server.startsWith('coaps:') && key === undefined) throw new CliError('--server-url coaps://… needs --psk-identity and --psk');
    if (key === undefined) return {};
    if (!server.startsWith('coaps:'))
      throw new CliError('--psk goes with a coaps:// server: give --server-url coaps://host:port or --bootstrap coaps://host:port');
    return { psk: { identity: identity!, key: Buffer.from(key, 'hex') } };
  }
  if (!/^coaps?:\/\/[^/\s]+\/?$/.test(uri)) throw new CliError(`--bootstrap must be coap://host:port or coaps://host:port, not "${uri}"`);
  if (uri.startsWith('coaps:') && key === undefined) throw new CliError('--bootstrap coaps://… needs --psk-identity and --psk');
  if (uri.startsWith('coap:') && key !== undefined)
    throw new CliError('--psk goes with a coaps:// bootstrap server (plain CoAP carries no key)');
  return { bootstrap: { uri, ...(identity !== undefined ? { identity, key: key!.toLowerCase() } : {}) } };
}
