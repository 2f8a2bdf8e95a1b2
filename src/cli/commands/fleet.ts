import type { Command } from 'commander';

import { parseQuirks } from '../../session/client/quirks.ts';
import { startFleet } from '../../sim/fleet.ts';
import { CliError } from '../cli-error.ts';
import { oneOf, positive } from '../options.ts';
import { Progress } from '../progress.ts';
import { jsonLog, onShutdown } from '../shutdown.ts';

export function registerFleet(program: Command): void {
  program
    .command('fleet')
    .description('run many simulated devices in one process (DM devices enrol with a gateway or server; LwM2M devices register)')
    .option('--count <n>', 'how many devices', '10')
    .option('--protocol <p>', 'dm or lwm2m', 'dm')
    .option('--server-url <url>', 'DM: the gateway\'s LAN URL (or a server); LwM2M: coap://host:port', 'http://127.0.0.1:8081/dm')
    .option('--server-id <id>', 'ServerID the DM devices are given', 'gwmo-gateway')
    .option('--password <secret>', 'DM devices\' secret (the gateway\'s --device-password)')
    .option('--server-password <secret>', 'the server\'s secret toward the DM devices (verifies Package#0)')
    .option('--prefix <text>', 'device ids are <prefix><n>', 'FLEET:')
    .option('--quirks <list>', 'DM devices behave like deployed clients (docs/interop.md), e.g. serverNonceNotPersisted,emptyServerNonce,chunkAnsweredOk,replyBuffer=60')
    .action(async (f: Record<string, string | undefined>) => {
      const protocol = oneOf('--protocol', f['protocol']!, ['dm', 'lwm2m'] as const);
      const count = positive('--count', f['count']!);
      if (!Number.isInteger(count) || count < 1) throw new CliError('--count must be a whole number ≥ 1');
      if (protocol === 'dm' && !f['password']) throw new CliError('--password is required for DM devices (the gateway\'s --device-password)');
      let quirks;
      try {
        quirks = f['quirks'] !== undefined ? parseQuirks(f['quirks']) : undefined;
      } catch (err) {
        throw new CliError(`--quirks: ${(err as Error).message}`);
      }
      const log = jsonLog('fleet');
      const bar = new Progress(process.stderr, count, { label: 'devices started' });
      let fleet;
      try {
        fleet = await startFleet({
          protocol, count, serverUrl: f['serverUrl']!, serverId: f['serverId']!, password: f['password'] ?? '', prefix: f['prefix']!,
          ...(f['serverPassword'] ? { serverPassword: f['serverPassword'] } : {}), ...(quirks ? { quirks } : {}),
          progress: (n, total) => (log('fleet.progress', { registered: n, count: total }), bar.update(n, total)),
        });
      } catch (err) {
        bar.finish();
        throw new CliError(`the fleet could not start: ${err instanceof Error ? err.message : String(err)}`, 1);
      }
      bar.finish();
      log('fleet.started', { protocol, count: fleet.size });
      onShutdown(() => fleet.stop(), 15_000);
    });
}
