// `gwmo images …`: upload an image to the server, stage it on a gateway and follow the download
// (bytes received on stderr), through the server's API.
import { openAsBlob, statSync } from 'node:fs';
import type { Command } from 'commander';

import { apiCall, apiOptions, followOptions, type FollowFlags, pollUntil, printJson } from '../api-client.ts';
import { CliError } from '../cli-error.ts';
import { positive } from '../options.ts';
import { Progress } from '../progress.ts';

type Entry = { State?: string; BytesReceived?: string; Size?: string; Error?: string };

/** Images MO State: 30 stored, 40 failed, 50 not stored (no room) */
const FINAL = new Set(['30', '40', '50']);

export function registerImages(program: Command): void {
  const images = program.command('images').description('images on the server and their staging on gateways (through the REST API)');
  apiOptions(
    images
      .command('upload')
      .description('upload a file to the server as an image; prints its sha256 id')
      .argument('<file>')
      .requiredOption('--name <name>', "the image's name")
      .option('--version <text>', 'its version', ''),
  ).action(async (file: string, o: FollowFlags & { name: string; version: string }) => {
    let blob: Blob;
    try {
      if (!statSync(file).isFile()) throw Object.assign(new Error(), { code: 'not a file' });
      blob = await openAsBlob(file); // streamed from disk as it is sent
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    printJson(
      await apiCall(
        o.api,
        o.token ?? process.env['GWMO_TOKEN'],
        'POST',
        `/images?name=${encodeURIComponent(o.name)}&version=${encodeURIComponent(o.version)}`,
        blob,
      ),
    );
  });
  followOptions(
    images
      .command('stage')
      .description('have a gateway fetch an image and store it for its devices; follows the download (progress on stderr)')
      .argument('<gateway>', "the gateway's DevId")
      .argument('<image>', "the image's sha256 id on the server")
      .option('--name <name>', "the entry's name on the gateway"),
  ).action(async (gw: string, image: string, o: FollowFlags & { name?: string }) => {
    const token = o.token ?? process.env['GWMO_TOKEN'];
    const path = `/gateways/${encodeURIComponent(gw)}/images`;
    const staged = (await apiCall(o.api, token, 'POST', `${path}?wait=10`, { image, ...(o.name ? { name: o.name } : {}) })) as {
      name: string;
    };
    const bar = new Progress(process.stderr, 0, { label: `bytes (image ${staged.name})` });
    const entry = (all: unknown): Entry | undefined => (all as Record<string, Entry>)[staged.name];
    const end = await pollUntil(
      () => apiCall(o.api, token, 'GET', `${path}?wait=10`),
      (all) => FINAL.has(entry(all)?.State ?? ''),
      {
        everyMs: positive('--every', o.every) * 1000,
        timeoutMs: positive('--timeout', o.timeout) * 1000,
        what: `staging of ${staged.name}`,
        onValue: (all) => {
          const e = entry(all);
          if (e?.Size) bar.update(Number(e.BytesReceived ?? 0), Number(e.Size));
        },
      },
    ).finally(() => bar.finish());
    const e = entry(end)!;
    printJson({ name: staged.name, ...e });
    if (e.State !== '30')
      throw new CliError(`the gateway did not store ${staged.name}: state ${e.State}${e.Error ? ` (${e.Error})` : ''}`, 1);
  });
}
