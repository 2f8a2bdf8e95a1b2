// How far each device of a running fanout has fetched its image from this gateway's LAN store. A
// FUMO device cannot be asked, but every byte it fetches passes here: the fanout hands each device
// a link of its own (ImageStore.deviceLink), and the LAN route counts what it serves on that link.
// Read by the server through ./GwMO/Fanout/<x>/Progress/Downloads (docs/updates.md, Events).
import type { JobCommand } from '../store/gateway.ts';
import type { ImageStore } from './images.ts';

/** entries listed in Progress/Downloads at most: the server's live view reads no more (LIVE_LIMIT) */
export const DOWNLOADS_LISTED = 300;
const LINK_PATH = /^\/img\/([0-9a-f]{64})$/;

interface Turn {
  readonly job: string;
  /** where the device's latest request has got to: a Range resume starts from its first byte, not from 0 */
  bytes: number;
  size: number;
}

export class DeviceDownloads {
  /** devices whose turn in a fanout runs now: bounded by the fanouts' concurrency */
  private readonly turns = new Map<string, Turn>();
  private readonly images: ImageStore;

  constructor(images: ImageStore) {
    this.images = images;
  }

  /**
   * A device's turn in a job starts: its commands with this gateway's image link made the device's
   * own (anything else, a server link when storage is off included, is left as it is).
   */
  begin(job: string, deviceId: string, commands: readonly JobCommand[]): JobCommand[] {
    this.turns.set(deviceId, { job, bytes: 0, size: 0 });
    return commands.map((c) => {
      const link = typeof c.data === 'string' ? this.personal(c.data, deviceId) : undefined;
      return link === undefined ? c : { ...c, data: link };
    });
  }

  end(job: string, deviceId: string): void {
    if (this.turns.get(deviceId)?.job === job) this.turns.delete(deviceId);
  }

  /** The LAN route served the device bytes up to `at` of a `size`-byte image. */
  served(deviceId: string, at: number, size: number): void {
    const t = this.turns.get(deviceId);
    if (!t) return; // fetched outside a fanout (a retry after its end): nobody asks
    t.bytes = at;
    t.size = size;
  }

  /** The job's devices that have fetched bytes and have no result yet, as `[deviceId, bytes, size]`. */
  of(job: string, limit = DOWNLOADS_LISTED): [string, number, number][] {
    const out: [string, number, number][] = [];
    for (const [deviceId, t] of this.turns) {
      if (out.length >= limit) break;
      if (t.job === job && t.size > 0) out.push([deviceId, t.bytes, t.size]);
    }
    return out;
  }

  private personal(value: string, deviceId: string): string | undefined {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      return undefined;
    }
    const m = LINK_PATH.exec(u.pathname);
    // only a link this gateway signed: a value that merely looks like one is the server's to send as is
    if (!m || u.searchParams.has('dev') || this.images.check(m[1]!, u.searchParams.get('token')) !== 'ok') return undefined;
    return this.images.deviceLink(m[1]!, deviceId, u.origin);
  }
}

/** Progress/Downloads: one line per device, `<DeviceID, percent-encoded> <bytes> <size>`. */
export function downloadsText(entries: readonly (readonly [string, number, number])[]): string {
  return entries.map(([d, b, s]) => `${encodeURIComponent(d)} ${b} ${s}`).join('\n');
}
