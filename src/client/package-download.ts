// How a simulated device fetches an update package: HTTP(S) GET, resumed with Range after a cut,
// hashed on the way (nothing kept: the "install" is the hash). Failures come back classified so
// FUMO, SCOMO and object 5 can each answer with their own result code.
import { createHash } from 'node:crypto';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';

/** Faults a test asks a device for (`gwmo device`'s simulated update handling). */
export interface UpdateFaults {
  /** the connection drops once after this many bytes; the device resumes with Range */
  cutAfter?: number;
  /** this many downloads from now on lose every connection after its first byte (decremented in place): a pull that fails for good */
  lostDownloads?: number;
  /** one byte of what arrived is flipped: the hash (if given) no longer matches */
  corrupt?: boolean;
  /** the device has room for this many bytes of package at most */
  spaceBytes?: number;
  /** the user refuses the update when asked */
  refuse?: boolean;
  /** the device stops reading once it has this many bytes and reads on when `release` settles: a download a test can watch mid-way */
  holdAfter?: { readonly bytes: number; readonly release: Promise<unknown> };
}

export type DownloadFailure = 'url' | 'network' | 'auth' | 'server' | 'space';

export class DownloadError extends Error {
  readonly kind: DownloadFailure;
  constructor(kind: DownloadFailure, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface Downloaded {
  readonly sha256: string;
  readonly bytes: number;
  /** connections it took (2 or more: resumed) */
  readonly requests: number;
}

/** Fetches `url`, resuming a cut transfer up to `attempts` times. */
export async function download(
  url: string,
  options: { attempts?: number; faults?: UpdateFaults; progress?: (bytes: number) => void } = {},
): Promise<Downloaded> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DownloadError('url', `"${url.slice(0, 80)}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new DownloadError('url', `${u.protocol} downloads are not supported`);
  const faults = options.faults ?? {};
  const attempts = options.attempts ?? 4;
  const hash = createHash('sha256');
  let bytes = 0;
  let requests = 0;
  let cut = faults.cutAfter;
  let flipped = !faults.corrupt;
  let hold = faults.holdAfter;
  const lost = (faults.lostDownloads ?? 0) > 0;
  if (lost) faults.lostDownloads = faults.lostDownloads! - 1;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (lost) cut = bytes + 1;
    let res: IncomingMessage;
    requests++;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = (u.protocol === 'https:' ? httpsGet : httpGet)(
          u,
          { headers: bytes > 0 ? { range: `bytes=${bytes}-` } : {}, timeout: 30_000 },
          resolve,
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    } catch {
      continue;
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      res.resume();
      const s = res.statusCode ?? 0;
      throw new DownloadError(s === 401 || s === 403 ? 'auth' : 'server', `HTTP ${s} from ${u.host}`);
    }
    if (res.statusCode === 200 && bytes > 0) throw new DownloadError('server', 'the server ignored Range while resuming');
    const total = bytes + Number(res.headers['content-length'] ?? 0);
    if (faults.spaceBytes !== undefined && total > faults.spaceBytes) {
      res.destroy();
      throw new DownloadError('space', `the package (${total} bytes) does not fit in ${faults.spaceBytes} bytes`);
    }
    const complete = await new Promise<boolean>((resolve) => {
      res.on('data', (c: Buffer) => {
        if (!flipped) {
          c = Buffer.from(c);
          c[0] = c[0]! ^ 0xff;
          flipped = true;
        }
        if (cut !== undefined && bytes + c.length > cut) {
          c = c.subarray(0, cut - bytes);
          cut = undefined;
          hash.update(c);
          bytes += c.length;
          res.destroy();
          resolve(false);
          return;
        }
        hash.update(c);
        bytes += c.length;
        options.progress?.(bytes);
        if (hold !== undefined && bytes >= hold.bytes) {
          const { release } = hold;
          hold = undefined;
          res.pause();
          const go = (): void => void res.resume();
          void release.then(go, go);
        }
      });
      res.on('aborted', () => resolve(false));
      res.on('error', () => resolve(false));
      res.on('end', () => resolve(res.complete));
    });
    if (complete) return { sha256: hash.digest('hex'), bytes, requests };
  }
  throw new DownloadError('network', `download of ${u.host}${u.pathname} failed ${attempts} times`);
}

/** `sha256:<hex>` or `<hex>` as lowercase hex, '' when none was given. */
export function expectedHash(value: unknown): string {
  return String(value ?? '')
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '');
}
