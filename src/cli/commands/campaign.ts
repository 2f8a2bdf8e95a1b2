// `gwmo campaign …`: staged rollouts through the server's API (create, list, show, pause, resume,
// cancel, report). The code that runs them is imported by each action (../run/campaign.ts).
import type { Command } from 'commander';

import { apiOptions } from '../api-client.ts';
import type { CampaignCreateFlags, CampaignFlags } from '../run/campaign.ts';

const run = () => import('../run/campaign.ts');

export function registerCampaign(program: Command): void {
  const c = program.command('campaign').description('staged image rollouts: a canary, then waves (through the REST API)');
  apiOptions(
    c
      .command('create')
      .description('start a campaign on a gateway, or across gateways ("*"); prints it')
      .argument('<gateway>', 'the gateway\'s DevId, or "*" for a campaign across gateways (--target, or --device wherever each is)')
      .argument('<image>', "the image's name on the gateway (across gateways: the server's image id)")
      .option('--name <name>', "the campaign's name")
      .option('--device <id...>', 'target devices')
      .option(
        '--target <gw=ids...>',
        'across gateways: a gateway and its devices and @groups (GW:B=IMEI:1,IMEI:2,@meters), or all its devices (GW:B=*)',
      )
      .option('--group <name...>', "target groups of the gateway's inventory")
      .option('--object <object>', 'auto, fumo or scomo (DM devices; LwM2M devices always get object 5)')
      .option('--canary <n|share>', 'the first wave: a count (5) or a share (0.05)')
      .option('--waves <n|sizes>', 'waves after the canary: a count (4) or sizes (10,100,1000)')
      .option('--failure-threshold <ratio>', "a wave's failed share above which the campaign halts", '0.1')
      .option('--concurrency <n>', 'devices updating at once on the gateway')
      .option('--not-before <date>', 'ISO 8601: do not start before')
      .option('--not-after <date>', 'ISO 8601: start no device after'),
  ).action(async (gw: string, image: string, o: CampaignCreateFlags) => (await run()).createCampaign(gw, image, o));
  apiOptions(c.command('list').description('campaigns, newest first')).action(async (o: CampaignFlags) => (await run()).listCampaigns(o));
  for (const [name, what] of [
    ['show', 'a campaign with its waves and each device’s result'],
    ['pause', 'start no new batch (those running end)'],
    ['resume', 'carry on a paused, halted or expired campaign'],
    ['cancel', 'stop for good'],
  ] as const)
    apiOptions(c.command(name).description(what).argument('<campaign>')).action(async (id: string, o: CampaignFlags) =>
      (await run()).campaignAction(name, id, o),
    );
  apiOptions(
    c
      .command('report')
      .description('per wave and per result code; --format csv gives one line per device')
      .argument('<campaign>')
      .option('--format <format>', 'json or csv', 'json'),
  ).action(async (id: string, o: CampaignFlags & { format: string }) => (await run()).campaignReport(id, o));
}
