// A distribution's FUMO commands (PkgName, PkgVersion, DownloadAndUpdate/PkgURL, Ext/PkgHash, Exec
// DownloadAndUpdate: the same for every device of the fanout) as the LwM2M object 5 sequence on one
// device: Package URI (/5/0/1) when
// it pulls over the URI's scheme, else the package itself (/5/0/0, block-wise); State (/5/0/3)
// followed to Downloaded, Update (/5/0/2), then Update Result (/5/0/5) mapped to a DM status.
// Mapping and diagram: docs/lwm2m.md "Firmware update (object 5)", docs/updates.md.
import { createHash } from 'node:crypto';

import { FUMO_ROOT } from '../../tree/index.ts';

import type { DriverCommand, DriverResult } from '../driver.ts';
import { decodePayload } from './codec.ts';
import { ContentFormat } from './model.ts';

const INSTALL = `${FUMO_ROOT}/DownloadAndUpdate`;
const PKG_URL = `${INSTALL}/PkgURL`;
const PKG_HASH = `${FUMO_ROOT}/Ext/PkgHash`;
/** object 5's PkgName (/5/0/6) and PkgVersion (/5/0/7) are the device's to report: what the server writes is taken, not sent */
const DEVICE_REPORTED = new Set([`${FUMO_ROOT}/PkgName`, `${FUMO_ROOT}/PkgVersion`]);

/** Object 5 State (/5/0/3) */
export const FwState = { Idle: 0, Downloading: 1, Downloaded: 2, Updating: 3 } as const;

/** Object 5 Update Result (/5/0/5), LwM2M 1.1 §E.6 → the DM status of the device's result, and why */
export const UPDATE_RESULTS: Readonly<Record<number, { status: number; reason: string }>> = {
  1: { status: 200, reason: 'firmware updated successfully' },
  2: { status: 420, reason: 'not enough flash memory for the package' },
  3: { status: 500, reason: 'out of RAM during download' },
  4: { status: 503, reason: 'connection lost during download' },
  5: { status: 500, reason: 'integrity check failure' },
  6: { status: 415, reason: 'unsupported package type' },
  7: { status: 400, reason: 'invalid URI' },
  8: { status: 500, reason: 'firmware update failed' },
  9: { status: 406, reason: 'unsupported protocol' },
};

/** Firmware Update Protocol Support (/5/0/8) code of a URI scheme */
const PROTOCOL_OF: Record<string, number> = { 'coap:': 0, 'coaps:': 1, 'http:': 2, 'https:': 3, 'coap+tcp:': 4, 'coaps+tcp:': 5 };

/** Firmware Update Delivery Method (/5/0/9) */
const Delivery = { Pull: 0, Push: 1, Both: 2 } as const;

/** a package above what one CoAP request may carry: refused before it is read, not after */
export class PackageTooLarge extends Error {}

/** the driver's one-command runner: retries, deadline and error mapping included */
export type RunOne = (c: DriverCommand) => Promise<DriverResult>;

export interface FirmwareContext {
  readonly deadline: number;
  cancelled(): boolean;
  /** the package bytes, for a device that only takes a push */
  fetchPackage(url: string): Promise<Uint8Array>;
  /** a download the device reported lost (Update Result 4) is started again: told before each new try */
  retrying?(info: { try: number; of: number; backoffMs: number }): void;
  /** the wait before the first new try (doubled for each next one); tests shorten it */
  retryBackoffMs?: number;
}

/**
 * New tries after a download the device reports lost: clients commonly leave the retry to the server.
 * Only Update Result 4 is retried; the other results say something a new try would not change.
 */
export const LOST_DOWNLOAD_RETRIES = 2;
const LOST = 4;

/** A fanout command set that is a firmware distribution (what gateways.ts distribute builds). */
export function isFirmwareJob(commands: readonly DriverCommand[]): boolean {
  return commands.some((c) => c.kind === 'Exec' && c.target === INSTALL);
}

const fail = (status: number, reason: string): DriverResult => ({ status, data: reason, format: 'chr' });
const text = (r: DriverResult): string => (r.data instanceof Uint8Array ? Buffer.from(r.data).toString('utf8') : (r.data ?? ''));

/** Integers of a resource read: one value, or several as SenML JSON (a multiple resource); undefined when unreadable. */
function integers(r: DriverResult, path: string): number[] | undefined {
  if (r.status !== 200) return undefined;
  const t = text(r).trim();
  if (!t.startsWith('[')) return Number.isInteger(Number(t)) && t !== '' ? [Number(t)] : undefined;
  const [o, i, res] = path.split('/').map(Number);
  const values = decodePayload(ContentFormat.SenmlJson, new TextEncoder().encode(t), { objectId: o!, instanceId: i!, resourceId: res! });
  return values.map((v) => Number(v.value)).filter(Number.isInteger);
}

/** Runs the commands, the firmware ones as the object 5 sequence, the others as they are. */
export async function runFirmware(commands: readonly DriverCommand[], run: RunOne, ctx: FirmwareContext): Promise<DriverResult[]> {
  const out: DriverResult[] = [];
  let url: string | undefined;
  let hash: string | undefined;
  let urlAt = -1;
  for (const c of commands) {
    if (ctx.cancelled()) break;
    if (c.kind === 'Replace' && c.target === PKG_URL) {
      url = text({ status: 200, ...(c.data !== undefined ? { data: c.data } : {}) });
      urlAt = out.push({ status: 200 }) - 1; // answered with the sequence's delivery step
    } else if (c.kind === 'Replace' && c.target === PKG_HASH) {
      hash = text({ status: 200, ...(c.data !== undefined ? { data: c.data } : {}) });
      out.push({ status: 200 }); // object 5 has no hash: the gateway checks a pushed package itself
    } else if (c.kind === 'Replace' && DEVICE_REPORTED.has(c.target)) {
      out.push({ status: 200 });
    } else if (c.kind === 'Exec' && c.target === INSTALL) {
      const { delivered, result } = await update(url, hash, run, ctx);
      if (urlAt >= 0 && delivered) out[urlAt] = delivered;
      out.push(result);
    } else out.push(await run(c));
  }
  return out;
}

async function update(
  url: string | undefined,
  hash: string | undefined,
  run: RunOne,
  ctx: FirmwareContext,
): Promise<{ delivered?: DriverResult; result: DriverResult }> {
  if (!url) return { result: fail(412, 'no DownloadAndUpdate/PkgURL before the Exec') };
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    return { result: fail(400, `PkgURL "${url.slice(0, 60)}" is not a URL`) };
  }
  // what the device supports: resources it lacks read 404, and then pull is assumed (1.0 devices)
  const protocols = integers(await run({ kind: 'Get', target: './5/0/8' }), '5/0/8');
  const delivery = integers(await run({ kind: 'Get', target: './5/0/9' }), '5/0/9')?.[0];
  const pullable = protocols === undefined || protocols.includes(PROTOCOL_OF[scheme] ?? -1);
  const pull = delivery !== Delivery.Push && pullable;
  if (!pull && delivery === Delivery.Pull)
    return { result: fail(406, `the device pulls only over protocols ${protocols?.join(',')} (/5/0/8); the package is at ${scheme}`) };
  const deliver = async (): Promise<DriverResult | { result: DriverResult }> => {
    if (pull) return run({ kind: 'Replace', target: './5/0/1', data: url, format: 'chr' });
    let bytes: Uint8Array;
    try {
      bytes = await ctx.fetchPackage(url);
    } catch (err) {
      if (err instanceof PackageTooLarge) return { result: fail(413, err.message) };
      return { result: fail(502, `the package for a push could not be fetched: ${err instanceof Error ? err.message : String(err)}`) };
    }
    const want = hash?.toLowerCase().replace(/^sha256:/, '');
    if (want && createHash('sha256').update(bytes).digest('hex') !== want)
      return { result: fail(500, 'the package fetched for a push does not match PkgHash; nothing sent') };
    return run({ kind: 'Replace', target: './5/0/0', data: bytes, format: 'bin' });
  };
  let delivered: DriverResult | undefined;
  let downloaded: DriverResult;
  for (let tries = 1; ; tries++) {
    const d = await deliver();
    if ('result' in d) return { ...(delivered ? { delivered } : {}), result: d.result };
    delivered = d;
    if (delivered.status !== 200) return { delivered, result: delivered };
    downloaded = await follow(run, ctx, (s) => s.state === FwState.Downloaded);
    if (updateResultOf(downloaded) !== LOST) break;
    const backoffMs = (ctx.retryBackoffMs ?? 2_000) * 2 ** (tries - 1);
    // a new try that cannot finish before the device's time is up is not started: a short download
    // still needs a few reads of State after the wait
    const enough = ctx.deadline - Date.now() > backoffMs + 1_000;
    if (tries > LOST_DOWNLOAD_RETRIES || !enough || ctx.cancelled()) {
      const why =
        tries > LOST_DOWNLOAD_RETRIES ? '' : ctx.cancelled() ? '; cancelled' : "; no time left for another before the device's timeout";
      downloaded = fail(downloaded.status, `${text(downloaded)} (${tries} ${tries === 1 ? 'try' : 'tries'}${why})`);
      break;
    }
    ctx.retrying?.({ try: tries + 1, of: LOST_DOWNLOAD_RETRIES + 1, backoffMs });
    await new Promise((resolve) => setTimeout(resolve, backoffMs));
  }
  if (downloaded.status !== 200) return { delivered, result: downloaded };
  const exec = await run({ kind: 'Exec', target: './5/0/2' });
  if (exec.status === 405) {
    // 4.05 to an Exec the driver sent again after an unanswered one: the first may have started the
    // update (nothing is Downloaded any more). Its Update Result says (reset when the URI was written)
    const s = await run({ kind: 'Get', target: './5/0/3' });
    const r = await run({ kind: 'Get', target: './5/0/5' });
    const state = s.status === 200 ? Number(text(s)) : -1;
    const result = r.status === 200 ? Number(text(r)) : -1;
    if (state === FwState.Updating || result === 1)
      return { delivered, result: await follow(run, ctx, (x) => x.state !== FwState.Updating && x.result !== 0) };
  }
  if (exec.status !== 200) return { delivered, result: exec };
  return { delivered, result: await follow(run, ctx, (s) => s.state !== FwState.Updating && s.result !== 0) };
}

/** The Update Result a failed outcome of `follow` carries, if any. */
function updateResultOf(r: DriverResult): number | undefined {
  const m = r.status === 200 ? null : /^Update Result (\d+):/.exec(text(r));
  return m ? Number(m[1]) : undefined;
}

/** Reads State and Update Result until `done` (or a failed Update Result), within the deadline. */
async function follow(run: RunOne, ctx: FirmwareContext, done: (s: { state: number; result: number }) => boolean): Promise<DriverResult> {
  let wait = 100;
  let unanswered = 0;
  for (;;) {
    const stateRead = await run({ kind: 'Get', target: './5/0/3' });
    const resultRead = stateRead.status === 200 ? await run({ kind: 'Get', target: './5/0/5' }) : stateRead;
    // a device busy downloading may leave a read unanswered (10,000 devices at once in the images
    // bench): its update goes on, so it is asked again until its time is up, not failed at once
    if (resultRead.status === 408 && !ctx.cancelled() && ctx.deadline > Date.now()) {
      unanswered++;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, Math.max(0, ctx.deadline - Date.now()))));
      wait = Math.min(wait * 1.5, 2000);
      continue;
    }
    if (resultRead.status === 408 && unanswered > 0)
      return fail(408, `no answer to the reads of State and Update Result (${unanswered + 1} unanswered) when the device's time ran out`);
    if (resultRead.status !== 200) return resultRead;
    const s = { state: Number(text(stateRead)), result: Number(text(resultRead)) };
    if (s.result >= 2 || done(s)) {
      if (s.result < 2) return { status: 200 };
      const r = UPDATE_RESULTS[s.result];
      return fail(r?.status ?? 500, `Update Result ${s.result}: ${r?.reason ?? 'unknown'}`);
    }
    if (ctx.cancelled()) return { status: 408 };
    const left = ctx.deadline - Date.now();
    if (left <= 0) return fail(408, `State ${s.state}, Update Result ${s.result} when the device's time ran out`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, left)));
    wait = Math.min(wait * 1.5, 2000);
  }
}
