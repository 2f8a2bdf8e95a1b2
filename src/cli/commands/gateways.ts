// `gwmo gateways …`: the server's gateway API from the command line (prints JSON).
import type { Command } from 'commander';

import { apiCall, jsonCommands, printJson } from '../api-client.ts';

let token: string | undefined;

const call = (api: string, method: string, path: string, body?: unknown): Promise<unknown> => apiCall(api, token, method, path, body);

const print = printJson;
const enc = encodeURIComponent;

export function registerGateways(program: Command): void {
  const g = program
    .command('gateways')
    .description("manage gateways through a server's REST API (JSON out)")
    .option('--api <url>', "the server's API", 'http://127.0.0.1:8080/api')
    .option('--token <token>', 'API token (default: $GWMO_TOKEN)')
    .option('--wait <seconds>', 'how long to wait for the gateway', '10')
    .hook('preAction', () => {
      token = (g.opts() as { token?: string }).token ?? process.env['GWMO_TOKEN'];
    });
  const opts = (): { api: string; wait: string } => g.opts();
  const q = (): string => `?wait=${enc(opts().wait)}`;
  g.command('list')
    .description('gateways known to the server')
    .action(async () => print(await call(opts().api, 'GET', '/gateways')));
  g.command('devices')
    .description('inventory behind a gateway: summary and devices')
    .argument('<gateway>')
    .action(async (gw: string) => print(await call(opts().api, 'GET', `/gateways/${enc(gw)}/devices${q()}`)));
  g.command('device')
    .description('one device behind a gateway')
    .argument('<gateway>')
    .argument('<deviceId>')
    .action(async (gw: string, d: string) => print(await call(opts().api, 'GET', `/gateways/${enc(gw)}/devices/${enc(d)}${q()}`)));
  g.command('groups')
    .description('groups on a gateway')
    .argument('<gateway>')
    .action(async (gw: string) => print(await call(opts().api, 'GET', `/gateways/${enc(gw)}/groups${q()}`)));
  g.command('group-set')
    .description('create or update a group (its members become exactly these)')
    .argument('<gateway>')
    .argument('<group>')
    .argument('<deviceIds...>')
    .option('--description <text>')
    .action(async (gw: string, name: string, members: string[], o: { description?: string }) =>
      print(
        await call(opts().api, 'PUT', `/gateways/${enc(gw)}/groups/${enc(name)}${q()}`, {
          members,
          ...(o.description !== undefined ? { description: o.description } : {}),
        }),
      ),
    );
  g.command('group-delete')
    .description('delete a group')
    .argument('<gateway>')
    .argument('<group>')
    .action(async (gw: string, name: string) => print(await call(opts().api, 'DELETE', `/gateways/${enc(gw)}/groups/${enc(name)}${q()}`)));
  g.command('fanout')
    .description('run commands on devices/groups behind a gateway')
    .argument('<gateway>')
    .requiredOption('--command <json...>', 'a command as JSON, e.g. \'{"kind":"Get","path":"./DevInfo/Mod"}\' (repeatable)')
    .option('--device <id...>', 'target devices')
    .option('--group <name...>', 'target groups')
    .option('--name <job>', "the job's name")
    .action(async (gw: string, o: { command: string[]; device?: string[]; group?: string[]; name?: string }) => {
      const commands = jsonCommands(o.command);
      print(
        await call(opts().api, 'POST', `/gateways/${enc(gw)}/fanouts${q()}`, {
          commands,
          ...(o.device ? { devices: o.device } : {}),
          ...(o.group ? { groups: o.group } : {}),
          ...(o.name ? { name: o.name } : {}),
        }),
      );
    });
  g.command('fanout-status')
    .description('state, progress, aggregate and per-device results of a fanout')
    .argument('<gateway>')
    .argument('<job>')
    .action(async (gw: string, job: string) => print(await call(opts().api, 'GET', `/gateways/${enc(gw)}/fanouts/${enc(job)}${q()}`)));
}
