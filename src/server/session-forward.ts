// Several instances behind one URL (a round-robin load balancer): a DM session lives in the memory
// of the instance that started it, and its key starts with that instance's tag. A message whose key
// names another instance is posted on to that instance's DM URL (published in the shared store) and
// its answer relayed. The owner checks a forwarded message like any other (session, device, MAC);
// the forward itself is signed with a key only the instances know, so the header that carries the
// device's address cannot be forged from outside, and a forwarded message is never forwarded again.
import { createHmac, timingSafeEqual } from 'node:crypto';

import { HMAC_HEADER } from '../protocol/index.ts';
import { sessionKey } from '../session/server/index.ts';
import type { SessionOwners } from '../store/server.ts';
import { contentTypeOf, DmHttpClient, type DmHttpReply, type DmHttpRequest, encodingOf, FORWARD_HEADER } from '../transport/index.ts';

/** between the instance's tag and the random part of a session key (not a base64url character) */
export const TAG_SEPARATOR = '.';
/** a signature older (or newer) than this is refused: clocks of instances agree better than that */
const MAX_SKEW_MS = 30_000;
/** the instances' addresses are read again after this long, or after this long when a tag is not among them */
const DIRECTORY_TTL_MS = 5_000;
const DIRECTORY_MISS_MS = 1_000;
const FORWARD_TIMEOUT_MS = 30_000;
/** connections kept to each other instance: forwards beyond wait for one */
const FORWARD_SOCKETS = 32;

/** `forwardedTo`: the owner's tag, when the reply is the owner's */
export type Routed = { readonly req: DmHttpRequest } | { readonly reply: DmHttpReply; readonly forwardedTo?: string };

export class SessionForwarder {
  private readonly owners: SessionOwners;
  private readonly log: (event: string, fields: Record<string, unknown>) => void;
  private readonly count: (outcome: 'relayed' | 'owner-gone' | 'refused') => void;
  private key: Promise<Uint8Array> | undefined;
  private directory = new Map<string, string>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | undefined;
  /**
   * node:http on kept-alive sockets, not fetch: undici's per-call request, header and stream objects
   * were most of a forward's CPU (BENCHMARKS.md, scale). Never retried: the owner may have run it.
   */
  private readonly http = new DmHttpClient({ maxSockets: FORWARD_SOCKETS, timeoutMs: FORWARD_TIMEOUT_MS });

  constructor(
    owners: SessionOwners,
    count: (outcome: 'relayed' | 'owner-gone' | 'refused') => void,
    log?: (event: string, fields: Record<string, unknown>) => void,
  ) {
    this.owners = owners;
    this.count = count;
    this.log = log ?? (() => {});
  }

  /** what the engine's session keys start with */
  get keyPrefix(): string {
    return `${this.owners.tag}${TAG_SEPARATOR}`;
  }

  /**
   * The message as this instance must handle it (its own session, a new one, one forwarded to it),
   * or the owner's answer. An owner that is gone or unreachable leaves the message here: the engine
   * answers "no DM session" and the device starts a new one, as when an instance dies.
   */
  async route(req: DmHttpRequest): Promise<Routed> {
    if (req.forward !== undefined) {
      const from = await this.verify(req);
      if (from === undefined) {
        this.count('refused');
        return { reply: { httpStatus: 403, message: 'forwarded DM message with a wrong or stale signature' } };
      }
      return { req: { ...req, remoteAddress: from } };
    }
    const key = sessionKey(req.url);
    const cut = key?.indexOf(TAG_SEPARATOR) ?? -1;
    if (key === null || cut <= 0) return { req };
    const tag = key.slice(0, cut);
    if (tag === this.owners.tag) return { req };
    const to = await this.addressOf(tag);
    if (to === undefined) {
      this.count('owner-gone');
      return { req };
    }
    try {
      const reply = await this.post(to, req);
      this.count('relayed');
      return { reply, forwardedTo: tag };
    } catch (err) {
      this.directory.delete(tag);
      this.count('owner-gone');
      this.log('dm.forward.failed', { to, error: err instanceof Error ? err.message : String(err) });
      return { req };
    }
  }

  /**
   * One query for every instance's address, at most once a second for a tag it does not know and
   * every 5 s otherwise: a flood of made-up session keys costs no query each.
   */
  private async addressOf(tag: string): Promise<string | undefined> {
    const now = Date.now();
    const age = now - this.loadedAt;
    if (this.loading === undefined && (age > DIRECTORY_TTL_MS || (!this.directory.has(tag) && age > DIRECTORY_MISS_MS))) {
      this.loadedAt = now;
      this.loading = this.owners
        .addresses()
        .then(
          (found) => {
            this.directory = found;
          },
          (err: unknown) => this.log('dm.forward.directory', { error: err instanceof Error ? err.message : String(err) }),
        )
        .finally(() => {
          this.loading = undefined;
        });
    }
    // messages that come while the addresses are read wait for them
    await this.loading;
    return this.directory.get(tag);
  }

  private async post(dmUrl: string, req: DmHttpRequest): Promise<DmHttpReply> {
    const query = queryOf(req.url);
    const at = Date.now();
    const res = await this.http.exchange(dmUrl + query, req.body, {
      'content-type': contentTypeOf(req.encoding),
      [FORWARD_HEADER]: `${at} ${encodeURIComponent(req.remoteAddress)} ${(await this.mac(at, req.remoteAddress, query, req.body)).toString('base64url')}`,
      ...(req.hmac !== undefined ? { [HMAC_HEADER]: req.hmac } : {}),
    });
    const contentType = res.headers['content-type'];
    const encoding = encodingOf(contentType);
    if (res.status === 200 && encoding !== undefined) {
      const hmac = res.headers[HMAC_HEADER];
      return { body: new Uint8Array(res.body), encoding, ...(typeof hmac === 'string' ? { hmac } : {}) };
    }
    const retryAfter = Number(res.headers['retry-after'] ?? NaN);
    return {
      httpStatus: res.status,
      message: res.body.toString('utf8').trimEnd(),
      ...(Number.isFinite(retryAfter) ? { retryAfter } : {}),
    };
  }

  /** the kept-alive sockets to the other instances */
  close(): void {
    this.http.close();
  }

  /** the device's address the forwarding instance saw, when the signature holds */
  private async verify(req: DmHttpRequest): Promise<string | undefined> {
    const [at, from, mac] = (req.forward ?? '').split(' ');
    const time = Number(at);
    if (!Number.isSafeInteger(time) || Math.abs(Date.now() - time) > MAX_SKEW_MS || from === undefined || mac === undefined)
      return undefined;
    let address: string;
    try {
      address = decodeURIComponent(from);
    } catch {
      return undefined;
    }
    const want = await this.mac(time, address, queryOf(req.url), req.body);
    const got = Buffer.from(mac, 'base64url');
    return got.length === want.length && timingSafeEqual(got, want) ? address : undefined;
  }

  /** over the query (which names the session), not the path: the instances' DM paths may differ */
  private async mac(at: number, remoteAddress: string, query: string, body: Uint8Array): Promise<Buffer> {
    const loading = (this.key ??= this.owners.forwardKey());
    const key = await loading.catch((err: unknown) => {
      this.key = undefined;
      throw err;
    });
    return createHmac('sha256', key).update(`${at}\n${remoteAddress}\n${query}\n`).update(body).digest();
  }
}

function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q);
}
