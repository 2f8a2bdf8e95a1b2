// `gwmo gateways …`: the server's gateway API from the command line (prints JSON).
import type { Command } from 'commander';

import { CliError } from '../cli-error.ts';

let token: string | undefined;

async function call(api: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
  try {
    res = await fetch(`${api.replace(/\/$/, '')}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (err) {
    throw new CliError(`cannot reach ${api}: ${(err as { cause?: { code?: string } }).cause?.code ?? String(err)}; is gwmo server running?`, 1);
  }
  const json = (await res.json().catch(() => ({}))) as { error?: string };
  if (res.status === 401) throw new CliError(`${method} ${path}: ${json.error ?? 'not authenticated'}; pass --token or set GWMO_TOKEN (POST /api/tokens makes one)`, 1);
  if (res.status >= 400) throw new CliError(`${method} ${path}: HTTP ${res.status}: ${json.error ?? ''}`, 1);
  return json;
}

const print = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
const enc = encodeURIComponent;

export function registerGateways(program: Command): void {
  const g = program.command('gateways').description('manage gateways through a server\'s REST API (JSON out)')
    .option('--api <url>', 'the server\'s API', 'http://127.0.0.1:8080/api')
    .option('--token <token>', 'API token (default: $GWMO_TOKEN)')
    .option('--wait <seconds>', 'how long to wait for the gateway', '10')
    .hook('preAction', () => {
      token = (g.opts() as { token?: string }).token ?? process.env['GWMO_TOKEN'];
    });
  const opts = (): { api: string; wait: string } => g.opts();
  const q = (): string => `?wait=${enc(opts().wait)}`;
  g.command('list').description('gateways known to the server').action(async () => print(await call(opts().api, 'GET', '/gateways')));
  g.command('devices').description('inventory behind a gateway: summary and devices').argument('<gateway>')
    .action(async (gw: string) => print(await call(opts().api, 'GET', `/gateways/${enc(gw)}/devices${q()}`)));
  g.command('device').description('one device behind a gateway').argument('<gateway>').argument('<deviceId>')
    .action(async (gw: string, d: string) => print(await call(opts().api, 'GET', `/gateways/${enc(gw)}/devices/${enc(d)}${q()}`)));
  g.command('groups').description('groups on a gateway').argument('<gateway>')
    .action(async (gw: string) => print(await call(opts().api, 'GET', `/gateways/${enc(gw)}/groups${q()}`)));
  g.command('group-set').description('create or update a group (its members become exactly these)').argument('<gateway>').argument('<group>')
    .argument('<deviceIds...>').option('--description <text>')
    .action(async (gw: string, name: string, members: string[], o: { description?: string }) =>
      print(await call(opts().api, 'PUT', `/gateways/${enc(gw)}/groups/${enc(name)}${q()}`, { members, ...(o.description !== undefined ? { description: o.description } : {}) })));
  g.command('group-delete').description('delete a group').argument('<gateway>').argument('<group>')
    .action(async (gw: string, name: string) => print(await call(opts().api, 'DELETE', `/gateways/${enc(gw)}/groups/${enc(name)}${q()}`)));
  g.command('fanout').description('run commands on devices/groups behind a gateway')
    .argument('<gateway>')
    .requiredOption('--command <json...>', 'a command as JSON, e.g. \'{"kind":"Get","path":"./DevInfo/Mod"}\' (repeatable)')
    .option('--device <id...>', 'target devices').option('--group <name...>', 'target groups').option('--name <job>', 'the job\'s name')
    .action(async (gw: string, o: { command: string[]; device?: string[]; group?: string[]; name?: string }) => {
      const commands = o.command.map((c) => {
        try {
          return JSON.parse(c) as unknown;
        } catch {
          throw new CliError(`--command ${c} is not JSON`);
        }
      });
      print(await call(opts().api, 'POST', `/gateways/${enc(gw)}/fanouts${q()}`, {
        commands, ...(o.device ? { devices: o.device } : {}), ...(o.group ? { groups: o.group } : {}), ...(o.name ? { name: o.name } : {}),
      }));
    });
  g.command('fanout-status').description('state, progress, aggregate and per-device results of a fanout').argument('<gateway>').argument('<job>')
    .action(async (gw: string, job: string) => print(await call(opts().api, 'GET', `/gateways/${enc(gw)}/fanouts/${enc(job)}${q()}`)));
}
