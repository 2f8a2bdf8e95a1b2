// `gwmo fanout`: start a fanout on a gateway through the server's API and follow it to the end,
// with progress on stderr; the final status (State, Aggregate, Results) as JSON on stdout.
import type { Command } from 'commander';

import { apiCall, followOptions, type FollowFlags, jsonCommands, pollUntil, printJson } from '../api-client.ts';
import { CliError } from '../cli-error.ts';
import { positive } from '../options.ts';
import { Progress } from '../progress.ts';

type Status = { pending?: boolean; State?: string; Progress?: { Total?: string; Done?: string } };

/** Fanout MO State: 30 completed, 40 cancelled, 60 failed */
const FINAL = new Set(['30', '40', '60']);

export function registerFanout(program: Command): void {
  followOptions(program.command('fanout')
    .description('run commands on devices/groups behind a gateway and follow the job to its end (progress on stderr, result JSON on stdout)')
    .argument('<gateway>', 'the gateway\'s DevId')
    .requiredOption('--command <json...>', 'a command as JSON, e.g. \'{"kind":"Get","path":"./DevInfo/Mod"}\' (repeatable)')
    .option('--device <id...>', 'target devices').option('--group <name...>', 'target groups').option('--name <job>', 'the job\'s name'))
    .action(async (gw: string, o: FollowFlags & { command: string[]; device?: string[]; group?: string[]; name?: string }) => {
      const token = o.token ?? process.env['GWMO_TOKEN'];
      const every = positive('--every', o.every) * 1000;
      const timeout = positive('--timeout', o.timeout) * 1000;
      if (!o.device && !o.group) throw new CliError('give the targets: --device <id...> and/or --group <name...>');
      const path = `/gateways/${encodeURIComponent(gw)}/fanouts`;
      const started = await apiCall(o.api, token, 'POST', `${path}?wait=10`, {
        commands: jsonCommands(o.command), ...(o.device ? { devices: o.device } : {}), ...(o.group ? { groups: o.group } : {}), ...(o.name ? { name: o.name } : {}),
      }) as { name: string };
      const bar = new Progress(process.stderr, 0, { label: `devices (fanout ${started.name})` });
      const end = await pollUntil(() => apiCall(o.api, token, 'GET', `${path}/${encodeURIComponent(started.name)}?wait=10`) as Promise<Status>,
        (s) => FINAL.has(s.State ?? ''), {
          everyMs: every, timeoutMs: timeout, what: `fanout ${started.name}`,
          onValue: (s) => s.Progress && bar.update(Number(s.Progress.Done ?? 0), Number(s.Progress.Total ?? 0)),
        }).finally(() => bar.finish());
      printJson(end);
      if (end.State !== '30') throw new CliError(`fanout ${started.name} ended in state ${end.State} (40 cancelled, 60 failed)`, 1);
    });
}
