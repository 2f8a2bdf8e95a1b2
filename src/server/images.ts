// Images on the server. Each upload is a record (its own name, version, claimed type) naming bytes
// kept once per SHA-256, within a total quota. Served at /images/<id> (Range, HEAD, ETag) to
// gateways, or to devices when a gateway does not store them, always as an inert download, and only
// to those who may: an API user, a device with its DM credentials, or the holder of a link the
// server signed. Egress is counted so a test can see an image cross the WAN once. With a shared
// store (PostgreSQL) records and bytes live there, so every instance serves what any one received;
// the local file stays as this instance's copy.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

import type { GenericAlert } from '../session/server/index.ts';
import type { SharedImages } from '../store/server.ts';
import { checkCapability, sendPlain, type ServeCounters, serveFile, signCapability } from '../transport/index.ts';
import { basicUser, type DmBasicVerdict } from './dm-basic.ts';
import { FileImages, IMAGE_ID } from './image-files.ts';
import { ServiceError } from './service.ts';

/** What a gateway waits on while it may fetch an image from here (see onImageReady). */
export type StagingState = 'downloading' | 'devices-fetch-here';

export interface ImageInfo {
  /** this upload's id (uploads from before records: the SHA-256) */
  readonly id: string;
  /** hex SHA-256 of the bytes, shared by every upload of the same bytes */
  readonly sha256: string;
  readonly name: string;
  readonly version: string;
  readonly size: number;
  /** what the uploader claimed; shown, never sent as the type of the bytes */
  readonly contentType: string;
  readonly createdAt: number;
  /** `<gateway>/<name on it>` of stagings that may still fetch it from this server */
  readonly stagings?: Readonly<Record<string, StagingState>>;
}

export interface ImageRepoOptions {
  /** bytes all images may take together (each content once) */
  readonly quotaBytes?: number;
  /** checks a device's DM credentials (HTTP Basic), counted with its DM authentications */
  readonly dmBasic?: (req: IncomingMessage, deviceId: string) => Promise<DmBasicVerdict>;
  /** an API user (token or login cookie) allowed to read images made the request */
  readonly apiReader?: (req: IncomingMessage) => Promise<boolean>;
}

export const DEFAULT_IMAGE_QUOTA = 10 * 1024 ** 3;
/** how long a link handed to a gateway stays valid; a distribution hands out a fresh one */
export const LINK_TTL_MS = 30 * 24 * 3600_000;
const HEX = /^[0-9a-f]{64}$/;
// GwMO 1.0 (gwmo's Images MO): the gateway's report that a staging's download ended
const IMAGE_READY = 'urn:oma:at:oma-gwmo:imageready:1.0';
const READY_SOURCE = /^\.\/GwMO\/Images\/([^/]+)\/Operations\/Download$/;
const TEXT = /^[^\p{C}]*$/u;

const info = (meta: string): ImageInfo => {
  const i = JSON.parse(meta) as ImageInfo;
  return { ...i, sha256: i.sha256 ?? i.id };
};

export class ImageRepo {
  private readonly files: FileImages;
  private readonly shared: SharedImages | undefined;
  private readonly options: ImageRepoOptions;
  /** bytes of uploads still arriving, counted against the quota */
  private arriving = 0;
  readonly quotaBytes: number;
  readonly served: ServeCounters = { bytes: 0, requests: 0 };

  constructor(dir: string, shared?: SharedImages, options: ImageRepoOptions = {}) {
    this.files = new FileImages(dir);
    this.shared = shared;
    this.options = options;
    this.quotaBytes = options.quotaBytes ?? DEFAULT_IMAGE_QUOTA;
  }

  private get catalog(): SharedImages {
    return this.shared ?? this.files;
  }

  /** An upload by its id, or the newest upload of the bytes a SHA-256 names. */
  async get(ref: string): Promise<ImageInfo | undefined> {
    if (!IMAGE_ID.test(ref)) return undefined;
    const meta = await this.catalog.getRecord(ref);
    if (meta !== undefined) return info(meta);
    return HEX.test(ref) ? (await this.list()).filter((i) => i.sha256 === ref).pop() : undefined;
  }

  async list(): Promise<ImageInfo[]> {
    return (await this.catalog.listRecords()).map(info);
  }

  /** Stores an upload (streamed, hashed on the way); the same bytes twice are stored once, each upload keeps its own name. */
  async add(
    body: AsyncIterable<Buffer>,
    upload: { name: string; version: string; contentType: string; length?: number },
    maxBytes: number,
    now: number,
  ): Promise<ImageInfo> {
    const { name, version } = upload;
    if (name.length === 0 || name.length > 100 || !TEXT.test(name))
      throw new ServiceError(400, 'name must have 1–100 characters, none of them control characters');
    if (version.length > 50 || !TEXT.test(version))
      throw new ServiceError(400, 'version must have at most 50 characters, none of them control characters');
    if (await this.catalog.hasRecord(name, version)) throw conflict(name, version);
    const tooBig = (used: number): ServiceError =>
      new ServiceError(
        413,
        `the image store quota of ${this.quotaBytes} bytes would be exceeded (${used} bytes used); delete images (DELETE /api/images/{id}) or raise --image-quota`,
      );
    const used = await this.catalog.usedBytes();
    if (upload.length !== undefined && used + this.arriving + upload.length > this.quotaBytes) throw tooBig(used);
    const temp = this.files.blobPath(`upload-${process.pid}-${now}-${Math.random().toString(36).slice(2)}`);
    const hash = createHash('sha256');
    let size = 0;
    const out = createWriteStream(temp);
    try {
      for await (const chunk of body) {
        size += chunk.length;
        this.arriving += chunk.length;
        if (size > maxBytes) throw new ServiceError(413, `image over ${maxBytes} bytes`);
        if (used + this.arriving > this.quotaBytes) throw tooBig(used);
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } catch (err) {
      out.destroy();
      await rm(temp, { force: true });
      throw err;
    } finally {
      this.arriving -= size;
    }
    if (size === 0) {
      await rm(temp, { force: true });
      throw new ServiceError(400, 'the image is empty: send its bytes as the request body');
    }
    const sha256 = hash.digest('hex');
    await rename(temp, this.files.blobPath(sha256));
    const image: ImageInfo = { id: randomUUID(), sha256, name, version, size, contentType: upload.contentType, createdAt: now };
    await this.shared?.put(sha256, size, createReadStream(this.files.blobPath(sha256)));
    // the name check again, where it is atomic: another upload of that name may have won meanwhile
    if (!(await this.catalog.addRecord(image.id, sha256, name, version, JSON.stringify(image)))) throw conflict(name, version);
    return image;
  }

  /** DELETE /api/images/{id}: the record, and the bytes once no upload names them; refused while a gateway may still fetch it. */
  async remove(id: string): Promise<void> {
    const image = await this.catalog.getRecord(id).then((m) => (m === undefined ? undefined : info(m)));
    if (!image) throw new ServiceError(404, `no image ${id}; GET /api/images lists them`);
    const using = Object.entries(image.stagings ?? {});
    if (using.length > 0) {
      const [where, state] = using[0]!;
      const [gateway, name] = [where.slice(0, where.lastIndexOf('/')), where.slice(where.lastIndexOf('/') + 1)];
      throw new ServiceError(
        409,
        state === 'downloading'
          ? `image ${id} is in use: gateway ${gateway} is downloading it as "${name}"${using.length > 1 ? ` (and ${using.length - 1} more stagings)` : ''}`
          : `image ${id} is in use: devices behind gateway ${gateway} fetch it from this server as "${name}" (image storage is off there)${using.length > 1 ? ` (and ${using.length - 1} more stagings)` : ''}; stage another image under that name first`,
      );
    }
    const { deleted, bytesGone } = await this.catalog.deleteRecord(id);
    if (!deleted) throw new ServiceError(404, `no image ${id}`);
    if (bytesGone) await rm(this.files.blobPath(image.sha256), { force: true });
  }

  /** The query that lets whoever holds it download image `id` until `expiresAt`. */
  async linkToken(id: string, expiresAt: number): Promise<string> {
    return signCapability(await this.catalog.linkKey(), id, expiresAt);
  }

  /** Records that `gateway` fetches image `id` as `name` (and no longer whatever it held under that name). */
  async staged(id: string, gateway: string, name: string): Promise<void> {
    await this.setStaging(`${gateway}/${name}`, undefined);
    const image = await this.get(id);
    if (image)
      await this.catalog.setRecord(
        image.id,
        JSON.stringify({ ...image, stagings: { ...image.stagings, [`${gateway}/${name}`]: 'downloading' } }),
      );
  }

  /**
   * The gateway's imageready alert ends a download: stored (informational) or failed (critical),
   * the gateway no longer needs our copy; storage off (warning): its devices will fetch it here.
   */
  onImageReady(gateway: string, alert: GenericAlert): Promise<void> | undefined {
    const ends = alert.items.flatMap((item) => {
      const name = item.type === IMAGE_READY ? READY_SOURCE.exec(item.source ?? '')?.[1] : undefined;
      return name === undefined
        ? []
        : [{ key: `${gateway}/${name}`, state: item.mark === 'warning' ? ('devices-fetch-here' as const) : undefined }];
    });
    if (ends.length === 0) return undefined;
    return (async () => {
      for (const e of ends) await this.setStaging(e.key, e.state);
    })();
  }

  async unstaged(gateway: string, name: string): Promise<void> {
    await this.setStaging(`${gateway}/${name}`, undefined);
  }

  private async setStaging(key: string, state: StagingState | undefined): Promise<void> {
    for (const image of await this.list()) {
      if (!image.stagings?.[key]) continue;
      const stagings = { ...image.stagings };
      if (state) stagings[key] = state;
      else delete stagings[key];
      await this.catalog.setRecord(image.id, JSON.stringify({ ...image, stagings }));
    }
  }

  /** Who may download: the holder of a signed link, a device with its DM credentials, an API user; undefined = yes. */
  private async refusal(
    req: IncomingMessage,
    id: string,
    url: URL,
  ): Promise<{ status: number; message: string; retryAfterS?: number } | undefined> {
    const token = url.searchParams.get('token');
    if (token !== null) {
      const check = checkCapability(await this.catalog.linkKey(), id, token, Date.now());
      if (check === 'ok') return undefined;
      return {
        status: 403,
        message:
          check === 'expired'
            ? 'this image link has expired; ask the server for a new one (distribute again)'
            : 'this image link is not valid for this image',
      };
    }
    if (/^Basic /i.test(req.headers.authorization ?? '')) {
      const deviceId = url.searchParams.get('device') ?? basicUser(req) ?? '';
      const verdict = this.options.dmBasic ? await this.options.dmBasic(req, deviceId) : { ok: false as const, status: 401 as const };
      if (verdict.ok) return undefined;
      if (verdict.status === 429)
        return {
          status: 429,
          message: `too many wrong DM credentials for ${deviceId} from this address; try again in ${verdict.retryAfterS} s`,
          retryAfterS: verdict.retryAfterS!,
        };
      return {
        status: 401,
        message:
          'these DM credentials were not accepted (HTTP Basic <ClientName>:<password>, ?device=<DevId> when the name is not the DevId)',
      };
    }
    if (await this.options.apiReader?.(req)) return undefined;
    if (req.headers.authorization !== undefined) return { status: 401, message: 'the API token is unknown, expired or revoked' };
    return {
      status: 401,
      message:
        "an image needs credentials: an API token or login, a device's DM credentials (HTTP Basic), or the link the server handed out (?token=)",
    };
  }

  /** GET/HEAD /images/<id> (or a SHA-256) */
  async serve(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refused = await this.refusal(req, id, url);
    if (refused) {
      sendPlain(
        res,
        refused.status,
        refused.message,
        refused.status === 401
          ? { 'www-authenticate': 'Basic realm="gwmo images"' }
          : refused.retryAfterS
            ? { 'retry-after': String(refused.retryAfterS) }
            : {},
      );
      return;
    }
    const image = await this.get(id);
    if (!image) {
      sendPlain(res, 404, `no image ${id}`);
      return;
    }
    const path = this.files.blobPath(image.sha256);
    const shared = this.shared;
    if (!shared && !existsSync(path)) {
      sendPlain(res, 404, `the bytes of image ${id} are gone`);
      return;
    }
    // uploaded on another instance: streamed from the shared store
    const read =
      !existsSync(path) && shared ? (start: number, end: number) => Readable.from(shared.read(image.sha256, start, end)) : undefined;
    const filename = `${image.name}${image.version ? `-${image.version}` : ''}.bin`;
    await serveFile(
      req,
      res,
      { path, size: read ? image.size : statSync(path).size, etag: image.sha256, filename, ...(read ? { read } : {}) },
      this.served,
    );
  }
}

function conflict(name: string, version: string): ServiceError {
  return new ServiceError(
    409,
    `an image named "${name}" with version "${version}" exists; upload under another version, or delete that one first`,
  );
}
