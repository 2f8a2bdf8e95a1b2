// npm run bench -- cli [runs]: start-up of the `gwmo` command against a bare Node start, side by side.
// Each round runs every contender once, in turn, so drift on the machine lands on all alike; the
// figure is the median wall time from spawn to exit. The compile cache is warmed by one run first.
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

import { freePort } from '../test/support/ports.ts';

const RUNS = 10;
const BIN = fileURLToPath(new URL('../bin/gwmo.js', import.meta.url));
const XML = fileURLToPath(new URL('../test/vectors/wbxml/02-pkg1-client-init-md5.xml', import.meta.url));

/** milliseconds from spawn to exit; `expect` is the exit code the run must end with */
function timed(args: readonly string[], expect: number, env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code !== expect) reject(new Error(`node ${args.join(' ')} exited ${code}, not ${expect}: ${stderr}`));
      else resolve(ms);
    });
  });
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: readonly number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

export async function main(args: string[]): Promise<void> {
  const runs = Number(args[0] ?? RUNS);
  const api = `http://127.0.0.1:${await freePort()}/api`; // nothing listens: the command fails fast once loaded
  const contenders: { name: string; args: string[]; expect: number; env?: Record<string, string> }[] = [
    { name: 'node -e 0', args: ['-e', '0'], expect: 0 },
    { name: 'gwmo --help', args: [BIN, '--help'], expect: 0 },
    { name: 'gwmo codec xml2wbxml <file>', args: [BIN, 'codec', 'xml2wbxml', XML], expect: 0 },
    { name: 'gwmo gateways devices (no server)', args: [BIN, 'gateways', 'devices', 'GW:1', '--api', api], expect: 1 },
    { name: 'gwmo --help, no compile cache', args: [BIN, '--help'], expect: 0, env: { NODE_DISABLE_COMPILE_CACHE: '1' } },
  ];
  for (const c of contenders) await timed(c.args, c.expect, c.env); // warm-up: fills the compile cache
  const times = contenders.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    for (const [i, c] of contenders.entries()) times[i]!.push(await timed(c.args, c.expect, c.env));
  }
  console.log(
    `machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`\n| command (${runs} runs, interleaved) | median ms | spread ms |`);
  console.log('|---|---|---|');
  for (const [i, c] of contenders.entries()) console.log(`| ${c.name} | ${median(times[i]!).toFixed(0)} | ${spread(times[i]!)} |`);
  const bare = median(times[0]!);
  const help = median(times[1]!);
  console.log('');
  console.log(`RESULT cli_start_vs_bare_node ${(help / bare).toFixed(2)}`);
  console.log(`RESULT cli_help_ms ${help.toFixed(0)}`);
  console.log(`RESULT cli_codec_ms ${median(times[2]!).toFixed(0)}`);
  console.log(`RESULT cli_gateways_ms ${median(times[3]!).toFixed(0)}`);
  console.log(`RESULT bare_node_ms ${bare.toFixed(0)}`);
}
