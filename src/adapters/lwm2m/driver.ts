// Adaptation mode for LwM2M: DM commands from a fanout become LwM2M operations on the device.
//   Get → Read (Discover for "?list=Struct"), Replace → Write (replace), Add → Create on an
//   object/instance or a partial-update Write on a resource, Delete → Delete, Exec → Execute.
//   A firmware distribution (FUMO DownloadAndUpdate/PkgURL, Ext/PkgHash, Exec DownloadAndUpdate) becomes object 5 (firmware.ts).
import type { DriverCommand, DriverContext, DriverResult, EndDeviceDriver } from '../driver.ts';
import { CoapExchangeError, CoapExchangeErrorCode } from './errors.ts';
import { isFirmwareJob, PackageTooLarge, runFirmware } from './firmware.ts';
import { Lwm2mFormatError, type Path } from './model.ts';
import { runCommand } from './operations.ts';
import { lwm2mPath } from './paths.ts';
import { DEFAULT_MAX_PAYLOAD, type Lwm2mServer } from './server.ts';

/** A request that never reached the device is answered at once, with its reason; a timeout is retried. */
function refusedStatus(err: CoapExchangeError): number | undefined {
  switch (err.code) {
    case CoapExchangeErrorCode.TooLarge:
      return 413;
    case CoapExchangeErrorCode.SendFailed:
      return 500;
    case CoapExchangeErrorCode.Stopped:
      return 503;
    case CoapExchangeErrorCode.NotRegistered:
      return 410;
    case CoapExchangeErrorCode.Timeout:
      return undefined;
    default:
      return 500;
  }
}

/** A package to push to a device that does not pull: fetched from its URL (the gateway's own LAN link). */
async function fetchPackage(url: string): Promise<Uint8Array> {
  const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const size = Number(res.headers.get('content-length') ?? 0);
  if (size > DEFAULT_MAX_PAYLOAD) {
    await res.body?.cancel();
    throw new PackageTooLarge(`the package is ${size} bytes, more than the ${DEFAULT_MAX_PAYLOAD} a push over CoAP may carry`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

export interface Lwm2mDriverOptions {
  log?: (event: string, fields: Record<string, unknown>) => void;
  /** the wait before a lost download is tried again (then doubled); tests shorten it */
  retryBackoffMs?: number;
}

export class Lwm2mDriver implements EndDeviceDriver {
  readonly protocol = 'LwM2M';
  private readonly server: Lwm2mServer;
  private readonly options: Lwm2mDriverOptions;

  constructor(server: Lwm2mServer, options: Lwm2mDriverOptions = {}) {
    this.server = server;
    this.options = options;
  }

  async execute(deviceId: string, commands: readonly DriverCommand[], ctx: DriverContext): Promise<DriverResult[]> {
    const out: DriverResult[] = [];
    // the fanout's per-device time covers every command, and the wait for a sleeping device
    const deadline = Date.now() + ctx.timeoutMs;
    if (isFirmwareJob(commands))
      return runFirmware(commands, (c) => this.one(deviceId, c, ctx, deadline), {
        deadline,
        cancelled: () => ctx.cancelled(),
        fetchPackage,
        retrying: (r) =>
          this.options.log?.('lwm2m.firmware.retry', {
            endpoint: deviceId,
            ...r,
            reason: 'Update Result 4: connection lost during download',
          }),
        ...(this.options.retryBackoffMs !== undefined ? { retryBackoffMs: this.options.retryBackoffMs } : {}),
      });
    for (const c of commands) {
      if (ctx.cancelled()) break;
      out.push(await this.one(deviceId, c, ctx, deadline));
    }
    return out;
  }

  private async one(endpoint: string, c: DriverCommand, ctx: DriverContext, deadline: number): Promise<DriverResult> {
    const discover = c.target.endsWith('?list=Struct');
    const path = lwm2mPath(c.target.replace(/\?list=Struct$/, ''));
    if (!path) return { status: 404 };
    for (let attempt = 0; ; attempt++) {
      try {
        const left = deadline - Date.now();
        if (left <= 0) return { status: 408 };
        return await this.send(endpoint, c, path, discover, left);
      } catch (err) {
        if (err instanceof Lwm2mFormatError) return { status: 400, data: err.message, format: 'chr' };
        const refused = err instanceof CoapExchangeError ? refusedStatus(err) : undefined;
        if (refused) return { status: refused, data: err instanceof Error ? err.message : String(err), format: 'chr' };
        if (attempt >= ctx.retries || ctx.cancelled()) return { status: 408 };
      }
    }
  }

  private send(ep: string, c: DriverCommand, path: Path, discover: boolean, timeoutMs: number): Promise<DriverResult> {
    return runCommand(this.server, ep, c, path, discover, timeoutMs);
  }
}
