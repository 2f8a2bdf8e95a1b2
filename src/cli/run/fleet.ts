
// `gwmo fleet`: many simulated devices in one process, loaded only when that command runs.
import { type ClientQuirk, parseQuirks } from '../../client/quirks.ts';
import { startFleet } from '../../sim/fleet.ts';
import { CliError } from '../cli-error.ts';
import { oneOf, positive } from '../options.ts';
import { Progress } from '../progress.ts';
import { jsonLog, onShutdown } from '../shutdown.ts';
import { lwm2mExchangeOptions } from './lwm2m-options.ts';

export async function runFleet(f: Record<string, string | undefined>): Promise<void> {
  const protocol = oneOf('--protocol', f['protocol']!, ['dm', 'lwm2m'] as const);
  const count = positive('--count', f['count']!);
  if (!Number.isInteger(count) || count < 1) throw new CliError('--count must be a whole number ≥ 1');
  if (protocol === 'dm' && !f['password']) throw new CliError('--password is required for DM devices (the gateway\'s --device-password)');
  let quirks: ClientQuirk[] = [];
  try {
    quirks = f['quirks'] ? parseQuirks(f['quirks']) : [];
  } catch (err) {
    throw new CliError(`--quirks: ${(err as Error).message}`);
  }
  if (quirks.length > 0 && protocol !== 'dm') throw new CliError('--quirks applies to DM devices only');
  const lwm2m = lwm2mExchangeOptions(f);
  const log = jsonLog('fleet');
  const bar = new Progress(process.stderr, count, { label: 'devices started' });
  let fleet;
  try {
    fleet = await startFleet({
      protocol, count, serverUrl: f['serverUrl']!, serverId: f['serverId']!, password: f['password'] ?? '', prefix: f['prefix']!,
      ...(f['serverPassword'] ? { serverPassword: f['serverPassword'] } : {}), ...(quirks.length > 0 ? { quirks } : {}), lwm2m,
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
