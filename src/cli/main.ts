import { Command, CommanderError } from 'commander';

import { registerCodec } from './commands/codec.ts';
import { registerNotification } from './commands/notification.ts';
import { registerServer } from './commands/server.ts';
import { registerDevice } from './commands/device.ts';
import { registerGateway } from './commands/gateway.ts';
import { registerGateways } from './commands/gateways.ts';
import { registerFleet } from './commands/fleet.ts';
import { registerDemo } from './commands/demo.ts';
import { CliError } from './cli-error.ts';
import { withConfig } from './config.ts';

const program = new Command('gwmo')
  .description('OMA DM Gateway (GwMO 1.0) with the DM server and client roles')
  .showHelpAfterError()
  .exitOverride();

registerCodec(program);
registerNotification(program);
registerServer(program);
registerDevice(program);
registerGateway(program);
registerGateways(program);
registerFleet(program);
registerDemo(program);
for (const c of program.commands) if (['server', 'gateway', 'device', 'fleet', 'demo'].includes(c.name())) withConfig(c);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  // one line, no stack: the message names the input that was wrong
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`gwmo: ${message}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
}
