// Calls to a gwmo server's REST API from the client commands (gateways, fanout, images): JSON in and
// out, a bearer token, and errors as one CLI line.
import type { Command } from 'commander';

import { CliError } from './cli-error.ts';

export async function apiCall(api: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  // a Blob (a file) goes as it is, anything else as JSON
  const raw = body instanceof Blob;
  const headers: Record<string, string> = {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(body !== undefined ? { 'content-type': raw ? 'application/octet-stream' : 'application/json' } : {}),
  };
  try {
    res = await fetch(`${api.replace(/\/$/, '')}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: raw ? body : JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new CliError(
      `cannot reach ${api}: ${(err as { cause?: { code?: string } }).cause?.code ?? String(err)}; is gwmo server running?`,
      1,
    );
  }
  const json = (await res.json().catch(() => ({}))) as { error?: string };
  if (res.status === 401)
    throw new CliError(
      `${method} ${path}: ${json.error ?? 'not authenticated'}; pass --token or set GWMO_TOKEN (POST /api/tokens makes one)`,
      1,
    );
  if (res.status >= 400) throw new CliError(`${method} ${path}: HTTP ${res.status}: ${json.error ?? ''}`, 1);
  return json;
}

export const printJson = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

/** `--command` values given as JSON text */
export function jsonCommands(list: readonly string[]): unknown[] {
  return list.map((c) => {
    try {
      return JSON.parse(c) as unknown;
    } catch {
      throw new CliError(`--command ${c} is not JSON`);
    }
  });
}

/** Reads until `finished` says so, `everyMs` apart; a CLI error after `timeoutMs`. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  finished: (v: T) => boolean,
  o: { everyMs: number; timeoutMs: number; what: string; onValue?: (v: T) => void },
): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const v = await read();
    o.onValue?.(v);
    if (finished(v)) return v;
    if (Date.now() >= deadline) throw new CliError(`${o.what} is still under way after ${Math.round(o.timeoutMs / 1000)} s`, 1);
    await new Promise((resolve) => setTimeout(resolve, o.everyMs));
  }
}

/** --api, --token (or GWMO_TOKEN), --every and --timeout of the commands that follow a long operation */
export interface FollowFlags {
  api: string;
  token?: string;
  every: string;
  timeout: string;
}

export function apiOptions(cmd: Command): Command {
  return cmd
    .option('--api <url>', "the server's API", 'http://127.0.0.1:8080/api')
    .option('--token <token>', 'API token (default: $GWMO_TOKEN)');
}

export function followOptions(cmd: Command): Command {
  return apiOptions(cmd)
    .option('--every <seconds>', 'seconds between progress reads', '1')
    .option('--timeout <seconds>', 'give up following after this', '600');
}
