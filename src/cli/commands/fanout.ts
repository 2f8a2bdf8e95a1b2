// `gwmo fanout`: start a fanout on a gateway through the server's API and follow it to the end,
// with progress on stderr; the final status (State, Aggregate, Results) as JSON on stdout.
import type { Command } from 'commander';

import { apiCall, followOptions, type FollowFlags, jsonCommands, pollUntil, printJson } from '../api-client.ts';
import { CliError } from '../cli-error.ts';
import { positive } from '../options.ts';
import { Progress } from '../progress.ts';

type Status = { name?: string; pending?: boolean; State?: string; Progress?: { Total?: string; Done?: string } };

/** Fanout MO State: 30 completed, 40 cancelled, 60 failed */
const FINAL = new Set(['30', '40', '60']);

export function registerFanout(program: Command): void {
  followOptions(
    program
      .command('fanout')
      .description(
        'run commands on devices/groups behind a gateway and follow the job to its end (progress on stderr, result JSON on stdout)',
      )
      .argument('<gateway>', "the gateway's DevId")
      .requiredOption('--command <json...>', 'a command as JSON, e.g. \'{"kind":"Get","path":"./DevInfo/Mod"}\' (repeatable)')
      .option('--device <id...>', 'target devices')
      .option('--group <name...>', 'target groups')
      .option('--name <job>', "the job's name"),
  ).action(async (gw: string, o: FollowFlags & { command: string[]; device?: string[]; group?: string[]; name?: string }) => {
    const token = o.token ?? process.env['GWMO_TOKEN'];
    const every = positive('--every', o.every) * 1000;
    const timeout = positive('--timeout', o.timeout) * 1000;
    if (!o.device && !o.group) throw new CliError('give the targets: --device <id...> and/or --group <name...>');
    const path = `/gateways/${encodeURIComponent(gw)}/fanouts`;
    const started = (await apiCall(o.api, token, 'POST', `${path}?wait=10`, {
      commands: jsonCommands(o.command),
      ...(o.device ? { devices: o.device } : {}),
      ...(o.group ? { groups: o.group } : {}),
      ...(o.name ? { name: o.name } : {}),
    })) as { name: string };
    const job = `${path}/${encodeURIComponent(started.name)}`;
    const what = `fanout ${started.name}`;
    const bar = new Progress(process.stderr, 0, { label: `devices (${what})` });
    const show = (s: Status): void => void (s.Progress && bar.update(Number(s.Progress.Done ?? 0), Number(s.Progress.Total ?? 0)));
    const deadline = Date.now() + timeout;
    const end = await followEvents(o.api, token, `${job}/events`, { name: started.name, what, show, timeoutMs: timeout })
      .then(
        (last) =>
          last ??
          pollUntil(
            () => apiCall(o.api, token, 'GET', `${job}?wait=10`) as Promise<Status>,
            (s) => FINAL.has(s.State ?? ''),
            {
              everyMs: every,
              timeoutMs: Math.max(0, deadline - Date.now()),
              what,
              onValue: show,
            },
          ),
      )
      .finally(() => bar.finish());
    printJson(end);
    if (end.State !== '30') throw new CliError(`fanout ${started.name} ended in state ${end.State} (40 cancelled, 60 failed)`, 1);
  });
}

/**
 * The job at its end, from the server-sent events the dashboard follows too; undefined where there
 * are none to follow (an older server without the route, a stream cut short, an error event), and
 * the caller polls instead, which also reports what went wrong in one line.
 */
async function followEvents(
  api: string,
  token: string | undefined,
  path: string,
  o: { name: string; what: string; show: (s: Status) => void; timeoutMs: number },
): Promise<Status | undefined> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  try {
    const res = await fetch(`${api.replace(/\/$/, '')}${path}`, {
      headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal,
    });
    if (res.status !== 200 || !res.headers.get('content-type')?.startsWith('text/event-stream') || !res.body) {
      await res.body?.cancel();
      return undefined;
    }
    const { readEvents } = await import('../event-stream.ts'); // only when a fanout is followed: gwmo --help stays small
    for await (const e of readEvents(res.body)) {
      if (e.event !== 'progress' && e.event !== 'done') return undefined;
      const job = JSON.parse(e.data) as Status;
      o.show(job);
      // printed as GET …/fanouts/{name} answers it
      if (e.event === 'done') return { name: o.name, ...job };
    }
    return undefined;
  } catch {
    if (signal.aborted) throw new CliError(`${o.what} is still under way after ${Math.round(o.timeoutMs / 1000)} s`, 1);
    return undefined; // unreachable, cut short or not JSON: polling reads the job itself
  }
}
