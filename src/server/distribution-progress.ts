// A distribution's devices while they download: the gateway counts the image bytes it serves each
// device of a running fanout (./GwMO/Fanout/<x>/Progress/Downloads, src/gateway/downloads.ts), the
// live view reads that node with the fanout's Progress/Done, and a device whose count moved becomes
// `downloading` with its bytes and the image's size. docs/updates.md, Events.
import type { DistributionDeviceRow } from '../store/server.ts';

/** devices taken from one read at most: the gateway lists no more (DOWNLOADS_LISTED) */
const MAX_LINES = 300;

export interface Fetched {
  readonly bytes: number;
  readonly size: number;
}

/** `<DeviceID, percent-encoded> <bytes> <size>` per line; lines that do not parse are skipped. */
export function parseDownloads(text: string): Map<string, Fetched> {
  const out = new Map<string, Fetched>();
  for (const line of text.split('\n').slice(0, MAX_LINES)) {
    const m = /^(\S+) (\d{1,15}) (\d{1,15})$/.exec(line.trim());
    if (!m) continue;
    let deviceId: string;
    try {
      deviceId = decodeURIComponent(m[1]!);
    } catch {
      continue;
    }
    const bytes = Number(m[2]);
    const size = Number(m[3]);
    if (size > 0 && bytes <= size) out.set(deviceId, { bytes, size });
  }
  return out;
}

/**
 * The rows whose count moved: a device sent its commands (or already downloading) becomes or stays
 * `downloading` with the bytes it has; an ended row is never moved back.
 */
export function downloadingRows(
  rows: ReadonlyMap<string, DistributionDeviceRow>,
  fetched: ReadonlyMap<string, Fetched>,
  now: number,
): DistributionDeviceRow[] {
  const out: DistributionDeviceRow[] = [];
  for (const [deviceId, f] of fetched) {
    const row = rows.get(deviceId);
    if (!row || (row.state !== 'sent' && row.state !== 'downloading')) continue;
    if (row.state === 'downloading' && row.bytes === f.bytes && row.size === f.size) continue;
    if (row.state === 'sent' && f.bytes === 0) continue;
    out.push({ ...row, state: 'downloading', bytes: f.bytes, size: f.size, updatedAt: now });
  }
  return out;
}

/** A device that succeeded fetched the whole image, whatever the last count read while it ran. */
export function settledBytes(row: DistributionDeviceRow): DistributionDeviceRow {
  return row.state === 'succeeded' && row.size !== undefined ? { ...row, bytes: row.size } : row;
}
