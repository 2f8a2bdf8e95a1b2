// `gwmo fleet`: many simulated devices in one process, loaded only when that command runs.
import { parseQuirks } from '../../client/quirks.ts';
import { startFleet } from '../../sim/fleet.ts';
import { CliError } from '../cli-error.ts';
import { oneOf, positive } from '../options.ts';
import { Progress } from '../progress.ts';
import { lwm2mExchangeOptions, lwm2mFormatOptions, lwm2mSecurityOptions } from './lwm2m-options.ts';
import { jsonLog, onShutdown } from '../shutdown.ts';

export async function runFleet(f: Record<string, string | undefined>): Promise<void> {
  const protocol = oneOf('--protocol', f['protocol']!, ['dm', 'lwm2m'] as const);
  const count = positive('--count', f['count']!);
  if (!Number.isInteger(count) || count < 1) throw new CliError('--count must be a whole number ≥ 1');
  if (protocol === 'dm' && !f['password']) throw new CliError("--password is required for DM devices (the gateway's --device-password)");
  let quirks: ReturnType<typeof parseQuirks> = { wire: [], session: undefined };
  try {
    if (f['quirks'] !== undefined) quirks = parseQuirks(f['quirks']);
  } catch (err) {
    throw new CliError(`--quirks: ${(err as Error).message}`);
  }
  if ((quirks.wire.length > 0 || quirks.session) && protocol !== 'dm') throw new CliError('--quirks applies to DM devices only');
  // no --psk on a fleet (bootstrap keys are per device): a fleet bootstraps NoSec devices only
  const lwm2m = { ...lwm2mFormatOptions(f['lwm2mVersion'], f['lwm2mFormats']), ...lwm2mExchangeOptions(f), ...lwm2mSecurityOptions(f) };
  const log = jsonLog('fleet');
  const bar = new Progress(process.stderr, count, { label: 'devices started' });
  let fleet;
  try {
    fleet = await startFleet({
      protocol,
      count,
      serverUrl: f['serverUrl']!,
      serverId: f['serverId']!,
      password: f['password'] ?? '',
      prefix: f['prefix']!,
      ...(f['serverPassword'] ? { serverPassword: f['serverPassword'] } : {}),
      ...(quirks.wire.length > 0 ? { wireQuirks: quirks.wire } : {}),
      ...(quirks.session ? { quirks: quirks.session } : {}),
      lwm2m,
      progress: (n, total) => (log('fleet.progress', { registered: n, count: total }), bar.update(n, total)),
    });
  } catch (err) {
    bar.finish();
    throw new CliError(`the fleet could not start: ${err instanceof Error ? err.message : String(err)}`, 1);
  }
  bar.finish();
  log('fleet.started', { protocol, count: fleet.size });
  onShutdown(() => fleet.stop(), 15_000);
}
