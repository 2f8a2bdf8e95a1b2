// The `gwmo` command and its subcommands, built apart from main.ts so that tests can list them.
import { Command } from 'commander';

import { registerCodec } from './commands/codec.ts';
import { registerNotification } from './commands/notification.ts';
import { registerServer } from './commands/server.ts';
import { registerDevice } from './commands/device.ts';
import { registerGateway } from './commands/gateway.ts';
import { registerGateways } from './commands/gateways.ts';
import { registerFleet } from './commands/fleet.ts';
import { registerDemo } from './commands/demo.ts';
import { registerFanout } from './commands/fanout.ts';
import { registerImages } from './commands/images.ts';
import { registerBackup } from './commands/backup.ts';
import { registerCampaign } from './commands/campaign.ts';
import { withConfig } from './config.ts';

/** the commands that run until stopped: they take --config, GWMO_* and --log-level */
export const LONG_RUNNING = ['server', 'gateway', 'device', 'fleet', 'demo'];

export function gwmoProgram(): Command {
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
  registerFanout(program);
  registerImages(program);
  registerBackup(program);
  registerCampaign(program);
  for (const c of program.commands) if (LONG_RUNNING.includes(c.name())) withConfig(c);
  return program;
}
