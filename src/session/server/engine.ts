// Routes device messages to their sessions (RespURI `?s=<key>`), starts sessions on a Pkg1 and drops
// idle ones. Transport-agnostic: bytes and the x-syncml-hmac header in, bytes out.
import { AlertCode, DecodeError, type Message, newNonce, StatusCode } from '../../protocol/index.ts';
import { statusFor } from '../refs.ts';
import { decodeMessage, encodeMessage, type WireMessage } from '../wire.ts';
import { ServerSession } from './session.ts';
import type { ServerDeps, ServerOptions } from './types.ts';

export interface DmRequest extends WireMessage {
  /** path and query the device posted to */
  readonly url: string;
  readonly remoteAddress?: string;
}

/** A reply that is not a DM message: the transport answers with this HTTP status and text. */
export interface HttpRefusal {
  readonly httpStatus: number;
  readonly message: string;
}

export type EngineReply = WireMessage | HttpRefusal;

export function isRefusal(reply: EngineReply): reply is HttpRefusal {
  return 'httpStatus' in reply;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const CLOSING_GRACE_MS = 30_000;

export class ServerEngine {
  private readonly sessions = new Map<string, ServerSession>();
  private readonly byDevice = new Map<string, string>();
  /** one message at a time per session: a device that posts twice at once is served in order */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly deps: ServerDeps;
  private readonly options: ServerOptions & { readonly newNonce: () => Uint8Array };

  constructor(deps: ServerDeps, options: ServerOptions) {
    this.deps = deps;
    this.options = { ...options, newNonce: options.newNonce ?? (() => newNonce()) };
  }

  get activeSessions(): number {
    return [...this.sessions.values()].filter((s) => !s.ended).length;
  }

  async handle(req: DmRequest): Promise<EngineReply> {
    let msg: Message;
    try {
      msg = decodeMessage(req.body, req.encoding, { maxBytes: this.options.maxMsgSize ?? 64 * 1024 });
    } catch (err) {
      if (err instanceof DecodeError) return { httpStatus: 400, message: `undecodable DM message: ${err.message} (${err.code})` };
      throw err;
    }
    const key = sessionKey(req.url);
    const session = key === null ? undefined : this.sessions.get(key);
    const unit = this.deps.unitOfWork?.bind(this.deps) ?? (<T>(work: () => Promise<T>) => work());
    if (session === undefined) {
      const starts = msg.body.commands.some((c) => c.kind === 'Alert' && (c.data === AlertCode.ClientInitiatedMgmt || c.data === AlertCode.ServerInitiatedMgmt));
      if (!starts) {
        return { httpStatus: 404, message: `no DM session ${key ?? '(none given)'}: it ended or expired; start a new session with Alert 1201 at ${this.options.url}` };
      }
      // the account lookup and the first message's writes commit together (one transaction, not two);
      // no other message can be queued for a session whose key the device does not know yet
      let started: ServerSession | EngineReply | undefined;
      try {
        return await unit(async (): Promise<EngineReply> => {
          started = await this.start(msg, req);
          return started instanceof ServerSession ? started.handle(msg, req) : started;
        });
      } finally {
        if (started instanceof ServerSession) this.settled(started);
      }
    }
    if (session.deviceId !== msg.hdr.source.locUri || session.sessionId !== msg.hdr.sessionId) {
      return { httpStatus: 400, message: `message from ${msg.hdr.source.locUri} session ${msg.hdr.sessionId} does not belong to DM session ${key}` };
    }
    const s = session;
    const previous = this.queues.get(s.key) ?? Promise.resolve();
    const run = previous.then(() => unit(() => s.handle(msg, req)));
    this.queues.set(s.key, run.catch(() => undefined));
    try {
      return await run;
    } finally {
      this.settled(s);
    }
  }

  private settled(s: ServerSession): void {
    // an ended session stays reachable for a moment: a device that challenges our credentials
    // answers our last message, and gets our Cred with its new nonce (then it is over)
    if (s.ended && s.outcome !== 'done') this.forget(s);
  }

  private async start(msg: Message, req: DmRequest): Promise<ServerSession | EngineReply> {
    if (!/^DM\/1\.[23]$/.test(msg.hdr.verProto)) return this.refuse(msg, req, StatusCode.DtdVersionNotSupported);
    const deviceId = msg.hdr.source.locUri;
    const account = await this.deps.findAccount(deviceId);
    if (account === undefined) return this.refuse(msg, req, StatusCode.Unauthorized);
    const old = this.byDevice.get(deviceId);
    if (old !== undefined) {
      // a device that starts over abandons its previous session
      const stale = this.sessions.get(old);
      if (stale) {
        await stale.end('aborted');
        this.forget(stale);
      }
    }
    const key = Buffer.from(this.options.newNonce()).toString('base64url').slice(0, 16);
    const session = new ServerSession(this.deps, this.options, { key, account, sessionId: msg.hdr.sessionId, encoding: req.encoding });
    this.sessions.set(key, session);
    this.byDevice.set(deviceId, key);
    return session;
  }

  /** A DM answer that refuses the whole message (unknown device, unsupported protocol version). */
  private refuse(msg: Message, req: DmRequest, code: number): WireMessage {
    const msgRef = msg.hdr.msgId;
    const statuses = [
      { kind: 'Status' as const, cmdId: 1, msgRef, cmdRef: 0, cmd: 'SyncHdr', targetRefs: [msg.hdr.target.locUri], sourceRefs: [msg.hdr.source.locUri], code, items: [] },
      ...msg.body.commands.filter((c) => c.kind !== 'Status' && c.kind !== 'Results').map((c, i) => ({ ...statusFor(msgRef, c, code), cmdId: i + 2 })),
    ];
    const reply: Message = {
      hdr: { verDtd: '1.2', verProto: 'DM/1.2', sessionId: msg.hdr.sessionId, msgId: 1, target: { locUri: msg.hdr.source.locUri }, source: { locUri: this.options.url } },
      body: { commands: statuses, final: true },
    };
    return { body: encodeMessage(reply, req.encoding), encoding: req.encoding };
  }

  /** Ends sessions idle past the timeout; their unanswered operations go back to the queue. */
  async expire(): Promise<number> {
    const limit = this.options.sessionTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const now = this.deps.clock.now();
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (s.ended) {
        if (now - s.lastActivity >= CLOSING_GRACE_MS) this.forget(s);
        continue;
      }
      if (now - s.lastActivity >= limit) {
        await s.end('timeout');
        this.forget(s);
        n++;
      }
    }
    return n;
  }

  /** Ends every session (server shutdown): operations in flight are re-queued. */
  async close(): Promise<void> {
    for (const s of [...this.sessions.values()]) {
      await s.end('timeout');
      this.forget(s);
    }
  }

  private forget(s: ServerSession): void {
    this.sessions.delete(s.key);
    this.queues.delete(s.key);
    if (this.byDevice.get(s.deviceId) === s.key) this.byDevice.delete(s.deviceId);
  }
}

/** The `s` query parameter of a RespURI, as `new URL(url).searchParams.get('s')` gives it, without a URL per message. */
export function sessionKey(url: string): string | null {
  const hash = url.indexOf('#');
  const q = url.indexOf('?');
  if (q < 0 || (hash >= 0 && hash < q)) return null;
  for (const pair of url.slice(q + 1, hash < 0 ? undefined : hash).split('&')) {
    const eq = pair.indexOf('=');
    if ((eq < 0 ? pair : pair.slice(0, eq)) !== 's') continue;
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    // our keys are base64url; anything encoded is decoded the way URLSearchParams does it
    return /[%+]/.test(value) ? new URLSearchParams(pair).get('s') : value;
  }
  return null;
}
