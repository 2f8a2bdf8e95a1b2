// Images on the gateway (DCIS-001..003, B.8): fetched once from the server, checked (size,
// SHA-256), stored by content (the same bytes once, whatever the names or stagings), evicted when
// unreferenced and room is needed, served to the LAN from disk, to whoever holds the link the gateway
// handed out (LocalURL: `/img/<sha256>?token=<HMAC>`, keyed by a secret of this gateway).
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { GatewayStore, ImageRow } from '../store/gateway.ts';
import { ImageState } from '../store/gateway.ts';
import {
  type CapabilityCheck,
  checkCapability,
  FetchFileError,
  fetchFile,
  keyFile,
  type ServeCounters,
  signCapability,
} from '../transport/index.ts';
import type { GatewayConfig } from './config.ts';
import type { GatewayAlert } from './inventory.ts';

export const IMAGE_READY = 'urn:oma:at:oma-gwmo:imageready:1.0';
const HEX = /^[0-9a-f]{64}$/;
/** where an image's bytes are written until they are verified (fetchFile adds `.part`) */
const tempName = (name: string): string => `download-${Buffer.from(name).toString('hex')}`;

export class ImageStore {
  private readonly dir: string;
  private readonly store: GatewayStore;
  private readonly config: GatewayConfig;
  private readonly alert: (a: GatewayAlert) => void;
  /** downloads under way in this process, by image name */
  private readonly inflight = new Map<string, { readonly done: Promise<void>; readonly abort: AbortController }>();
  private readonly linkKey: Buffer;
  /** LAN URL prefix of stored images, set once the LAN side listens */
  baseUrl = '';
  readonly served: ServeCounters = { bytes: 0, requests: 0 };

  constructor(dir: string, store: GatewayStore, config: GatewayConfig, alert: (a: GatewayAlert) => void) {
    this.dir = dir;
    this.store = store;
    this.config = config;
    this.alert = alert;
    mkdirSync(join(dir, 'sha256'), { recursive: true });
    this.linkKey = keyFile(join(dir, 'link-key'));
    // a download cut by a crash leaves a .part: kept for a staging that resumes (its SHA-256 is checked
    // at the end), else nothing refers to it
    const resumable = new Set(
      store
        .listImages()
        .filter((r) => r.state === ImageState.Downloading && r.hash !== undefined)
        .map((r) => `${tempName(r.name)}.part`),
    );
    for (const f of readdirSync(join(dir, 'sha256')))
      if (f.endsWith('.part') && !resumable.has(f)) void rm(join(dir, 'sha256', f), { force: true });
  }

  /**
   * Starts again every staging a crash left downloading (HTTP Range from what is on disk); the
   * imageready alert carries the correlator of the Exec that started it. Returns their names.
   */
  resume(): string[] {
    const cut = this.store.listImages().filter((r) => r.state === ImageState.Downloading && !this.inflight.has(r.name));
    for (const r of cut) this.download(r.name, r.correlator);
    return cut.map((r) => r.name);
  }

  /** Whether a download of that image runs in this process. */
  running(name: string): boolean {
    return this.inflight.has(name);
  }

  pathOf(hash: string): string | undefined {
    return HEX.test(hash) ? join(this.dir, 'sha256', hash) : undefined;
  }

  /** The stored file for a hash, or undefined. */
  file(hash: string): { path: string; size: number } | undefined {
    const path = this.pathOf(hash);
    if (!path) return undefined;
    try {
      return { path, size: statSync(path).size };
    } catch {
      return undefined;
    }
  }

  /** The LAN link to stored bytes; valid as long as this gateway's key, useless for any other image. */
  link(hash: string): string {
    return `${this.baseUrl}/img/${hash}?token=${signCapability(this.linkKey, hash)}`;
  }

  /**
   * The link one device is handed (the fanout writes it in place of `link`): the HMAC covers the
   * device's id too, so the bytes served on it count as that device's and nobody can claim another's.
   */
  deviceLink(hash: string, deviceId: string, origin = this.baseUrl): string {
    return `${origin}/img/${hash}?dev=${encodeURIComponent(deviceId)}&token=${signCapability(this.linkKey, `${hash}\n${deviceId}`)}`;
  }

  /** The name a download of these bytes is saved under: the first staging's name and version. */
  filename(hash: string): string {
    const row = this.store.listImages().find((i) => i.hash === hash);
    return row ? `${row.name}${row.version && row.version !== '-' ? `-${row.version}` : ''}.bin` : `${hash.slice(0, 16)}.bin`;
  }

  /** Whether a LAN request for `hash` carries the link's token. */
  check(hash: string, token: string | null, deviceId: string | null = null): CapabilityCheck | 'missing' {
    const subject = deviceId === null ? hash : `${hash}\n${deviceId}`;
    return token === null ? 'missing' : checkCapability(this.linkKey, subject, token, Date.now());
  }

  localUrl(row: ImageRow): string {
    if (row.state === ImageState.Stored && row.hash) return this.link(row.hash);
    if (row.state === ImageState.NotStored && row.downloadUrl) return row.downloadUrl; // devices fetch from the server
    return '';
  }

  usedBytes(): number {
    let used = 0;
    for (const f of readdirSync(join(this.dir, 'sha256'))) used += statSync(join(this.dir, 'sha256', f)).size;
    return used;
  }

  /** Exec Operations/Download: 202, and the outcome comes as an imageready alert. */
  download(name: string, correlator: string | undefined): number {
    const row = this.store.getImage(name);
    if (!row) return 404;
    if (!row.downloadUrl) return 412;
    if (row.hash !== undefined && !HEX.test(row.hash)) return 400;
    // under way here: the one alert comes at its end; left "downloading" by a crash: started again
    if (this.inflight.has(name)) return 202;
    const abort = new AbortController();
    const done = this.run({ ...row, ...(correlator ? { correlator } : {}) }, correlator, abort.signal).finally(() =>
      this.inflight.delete(name),
    );
    this.inflight.set(name, { done, abort });
    return 202;
  }

  /**
   * Exec Operations/Cancel: stops a download under way (its imageready alert says cancelled) or
   * marks one a crash left downloading as failed; 405 for a stored image (Remove it instead).
   */
  async cancel(name: string): Promise<number> {
    const row = this.store.getImage(name);
    if (!row) return 404;
    const job = this.inflight.get(name);
    if (job) {
      job.abort.abort();
      await job.done;
      return 200;
    }
    if (row.state === ImageState.Stored) return 405;
    if (row.state === ImageState.Downloading) {
      await rm(join(this.dir, 'sha256', `${tempName(name)}.part`), { force: true });
      this.store.putImage({ ...row, state: ImageState.Failed, error: 'cancelled' });
    }
    return 200;
  }

  /** Resolves when no download of that image is under way. */
  async settled(name: string): Promise<void> {
    await this.inflight.get(name)?.done;
  }

  private async run(row: ImageRow, correlator: string | undefined, signal: AbortSignal): Promise<void> {
    const source = `./GwMO/Images/${row.name}/Operations/Download`;
    const report = (r: ImageRow, mark: string, data: string): void =>
      this.alert({ type: IMAGE_READY, source, format: 'chr', data, mark, ...(correlator ? { correlator } : {}) });
    if (!this.config.bool('ImageStore/Enabled')) {
      // DCIS-003: storage switched off; devices fetch from the server, and the server is told so
      const off = { ...row, state: ImageState.NotStored, bytes: 0, error: 'image storage is switched off on this gateway' };
      this.store.putImage(off);
      report(off, 'warning', row.downloadUrl!);
      return;
    }
    if (row.hash && this.file(row.hash)) {
      // DCIS-002: the same bytes are already here
      const stored = { ...row, state: ImageState.Stored, bytes: this.file(row.hash)!.size };
      this.store.putImage(stored);
      report(stored, 'informational', this.localUrl(stored));
      return;
    }
    const failed = (error: string): void => {
      const f = { ...row, state: ImageState.Failed, error };
      this.store.putImage(f);
      report(f, 'critical', error);
    };
    if (row.size !== undefined && !(await this.makeRoom(row.size))) {
      failed(
        `quota exceeded: ${row.size} bytes do not fit in ImageStore/QuotaBytes ${this.config.get('ImageStore/QuotaBytes')} even after evicting unused images`,
      );
      return;
    }
    // the file is named by its hash only once verified; until then by the image's name
    const temp = join(this.dir, 'sha256', tempName(row.name));
    const resumed = existsSync(`${temp}.part`);
    this.store.putImage({ ...row, state: ImageState.Downloading, bytes: resumed ? row.bytes : 0 });
    let lastWrite = 0;
    const attempt = () =>
      fetchFile({
        url: row.downloadUrl!,
        dest: temp,
        signal,
        ...(row.size !== undefined ? { size: row.size } : {}),
        ...(row.hash ? { sha256: row.hash } : {}),
        onProgress: (bytes) => {
          if (bytes - lastWrite >= 1024 * 1024) {
            lastWrite = bytes;
            this.store.putImage({ ...row, state: ImageState.Downloading, bytes });
          }
        },
      });
    try {
      // bytes a crash left that do not hash right: once more from the first byte
      const got = await attempt().catch((err: unknown) => {
        if (resumed && err instanceof FetchFileError && err.reason === 'hash-mismatch') return attempt();
        throw err;
      });
      await rename(temp, join(this.dir, 'sha256', got.sha256));
      const stored = { ...row, hash: got.sha256, size: got.bytes, state: ImageState.Stored, bytes: got.bytes };
      this.store.putImage(stored);
      report(stored, 'informational', this.localUrl(stored));
    } catch (err) {
      await rm(temp, { force: true });
      failed(err instanceof FetchFileError ? `${err.reason}: ${err.message}` : `download failed: ${String(err)}`);
    }
  }

  /** Evicts unreferenced images, oldest first, until `bytes` fit in the quota. */
  private async makeRoom(bytes: number): Promise<boolean> {
    const quota = Number(this.config.get('ImageStore/QuotaBytes'));
    if (bytes > quota) return false;
    const referenced = new Set(
      this.store
        .listImages()
        .map((i) => i.hash)
        .filter((h): h is string => h !== undefined),
    );
    const dir = join(this.dir, 'sha256');
    const files = readdirSync(dir)
      .filter((f) => HEX.test(f))
      .map((f) => ({ f, ...statSync(join(dir, f)) }))
      .sort((a, b) => a.mtimeMs - b.mtimeMs);
    let used = files.reduce((n, x) => n + x.size, 0);
    for (const x of files) {
      if (used + bytes <= quota) break;
      if (referenced.has(x.f)) continue;
      await rm(join(dir, x.f), { force: true });
      used -= x.size;
    }
    return used + bytes <= quota;
  }

  /** Exec Operations/Remove (or Delete of the entry): the file goes when nothing else refers to it. */
  async remove(name: string): Promise<number> {
    const row = this.store.getImage(name);
    if (!row) return 404;
    // a download under way stops first: it must not write the entry back
    if (this.inflight.has(name)) await this.cancel(name);
    await rm(join(this.dir, 'sha256', `${tempName(name)}.part`), { force: true });
    this.store.deleteImage(name);
    if (row.hash && !this.store.listImages().some((i) => i.hash === row.hash)) await rm(this.pathOf(row.hash)!, { force: true });
    return 200;
  }
}
