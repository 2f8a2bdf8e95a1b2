// Routes device messages to their sessions (RespURI `?s=<key>`), starts sessions on a Pkg1 and drops
// idle ones. Transport-agnostic: bytes and the x-syncml-hmac header in, bytes out.
import {
  AlertCode,
  AuthScheme,
  type Chal,
  DecodeError,
  type DecodeWarning,
  type Message,
  newNonce,
  StatusCode,
} from '../../protocol/index.ts';
import { statusFor } from '../refs.ts';
import { decodeMessage, encodeMessage, type WireMessage } from '../wire.ts';
import { authenticateDevice, standInNonce } from './auth.ts';
import { ServerSession } from './session.ts';
import type { AuthFailure, DeviceAccount, ServerDeps, ServerOptions } from './types.ts';

export interface DmRequest extends WireMessage {
  /** path and query the device posted to */
  readonly url: string;
  readonly remoteAddress?: string;
}

/** Why a message was refused before any session: for the log and the trace. */
export type RefusalReason = 'credentials' | 'missing-credentials' | 'locked' | 'version' | 'undecodable' | 'no-session' | 'foreign-session';

export interface Refused {
  readonly deviceId?: string;
  readonly reason: RefusalReason;
  /** the device id has no account (only the log and the trace say so; the wire does not) */
  readonly unknown?: boolean;
}

/** A reply that is not a DM message: the transport answers with this HTTP status and text. */
export interface HttpRefusal {
  readonly httpStatus: number;
  readonly message: string;
  /** seconds, sent as Retry-After */
  readonly retryAfter?: number;
  readonly refused?: Refused;
}

/** `refused`: a DM answer that kept no session (the device did not authenticate). */
export type EngineReply = (WireMessage & { readonly refused?: Refused }) | HttpRefusal;

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
  /** keys the stand-in nonces of device ids without an account */
  private readonly strangerKey = newNonce(32);
  private readonly strangerPassword = Buffer.from(newNonce(24)).toString('base64');

  constructor(deps: ServerDeps, options: ServerOptions) {
    this.deps = deps;
    this.options = { ...options, newNonce: options.newNonce ?? (() => newNonce()) };
  }

  get activeSessions(): number {
    return [...this.sessions.values()].filter((s) => !s.ended).length;
  }

  async handle(req: DmRequest): Promise<EngineReply> {
    let msg: Message;
    const warnings: DecodeWarning[] = [];
    try {
      msg = decodeMessage(req.body, req.encoding, { maxBytes: this.options.maxMsgSize ?? 64 * 1024, onWarning: (w) => warnings.push(w) });
    } catch (err) {
      if (err instanceof DecodeError)
        return { httpStatus: 400, message: `undecodable DM message: ${err.message} (${err.code})`, refused: { reason: 'undecodable' } };
      throw err;
    }
    const key = sessionKey(req.url);
    const session = key === null ? undefined : this.sessions.get(key);
    const unit = this.deps.unitOfWork?.bind(this.deps) ?? (<T>(work: () => Promise<T>) => work());
    const starts = msg.body.commands.some(
      (c) => c.kind === 'Alert' && (c.data === AlertCode.ClientInitiatedMgmt || c.data === AlertCode.ServerInitiatedMgmt),
    );
    // a device that opens its next session at the last RespURI (docs/interop.md) starts afresh, as at our URL
    if (session === undefined || (session.ended && starts)) {
      if (!starts) {
        return {
          httpStatus: 404,
          message: `no DM session ${key ?? '(none given)'}: it ended or expired; start a new session with Alert 1201 at ${this.options.url}`,
          refused: { deviceId: msg.hdr.source.locUri, reason: 'no-session' },
        };
      }
      const reply = await this.begin(msg, req, unit);
      // only an authenticated device's quirks are told: a stranger's message must not cost a log line
      const started = this.sessions.get(this.byDevice.get(msg.hdr.source.locUri) ?? '');
      if (!isRefusal(reply) && reply.refused === undefined) this.warned(msg.hdr.source.locUri, warnings, started);
      return reply;
    }
    if (session.deviceId !== msg.hdr.source.locUri || session.sessionId !== msg.hdr.sessionId) {
      return {
        httpStatus: 400,
        message: `message from ${msg.hdr.source.locUri} session ${msg.hdr.sessionId} does not belong to DM session ${key}`,
        refused: { deviceId: msg.hdr.source.locUri, reason: 'foreign-session' },
      };
    }
    const s = session;
    const previous = this.queues.get(s.key) ?? Promise.resolve();
    const run = previous.then(() => unit(() => s.handle(msg, req)));
    this.queues.set(
      s.key,
      run.catch(() => undefined),
    );
    try {
      const reply = await run;
      this.warned(s.deviceId, warnings, s);
      return reply;
    } finally {
      this.settled(s);
      const failure = s.failure;
      s.failure = undefined;
      if (failure) await this.deps.authGuard?.failed(failure);
    }
  }

  /** Tells what one message's lenient reading let pass: once, at most 10 of them. */
  private warned(deviceId: string, decoded: readonly DecodeWarning[], session: ServerSession | undefined): void {
    const all = [...decoded.map((w) => ({ code: w.code, message: w.message })), ...(session?.warnings.splice(0) ?? [])];
    if (all.length > 0) this.deps.onWarnings?.(deviceId, all.slice(0, 10));
  }

  /**
   * A message that starts a session. Until the device has authenticated nothing is kept for it: a
   * refusal (wrong, missing credentials, a lock) is an answer built from the message alone, the same
   * whether the device id has an account or not, and the device starts over with Pkg1 (digest §5.4).
   */
  private async begin(msg: Message, req: DmRequest, unit: <T>(work: () => Promise<T>) => Promise<T>): Promise<EngineReply> {
    if (!/^DM\/1\.[23]$/.test(msg.hdr.verProto)) {
      return {
        ...this.refuse(msg, req, StatusCode.DtdVersionNotSupported),
        refused: { deviceId: msg.hdr.source.locUri, reason: 'version' },
      };
    }
    const deviceId = msg.hdr.source.locUri;
    const guard = this.deps.authGuard;
    // a locked device (or address) costs a lookup of its count: no account read, no digest, no DM answer
    const wait = guard ? await guard.retryAfter(deviceId, req.remoteAddress) : 0;
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      return {
        httpStatus: 429,
        retryAfter: seconds,
        refused: { deviceId, reason: 'locked' },
        message: `too many failed authentications for ${deviceId} from this address: try again in ${seconds} s`,
      };
    }
    // the account lookup and the first message's writes commit together (one transaction, not two);
    // no other message can be queued for a session whose key the device does not know yet
    let started: ServerSession | undefined;
    let failure: AuthFailure | undefined;
    try {
      const reply = await unit(async (): Promise<EngineReply> => {
        const account = await this.deps.findAccount(deviceId);
        const auth = authenticateDevice(account ?? this.stranger(msg), msg, req, false, this.options.newNonce);
        if (!auth.ok) {
          if (account && auth.issuedNonce) await this.deps.saveNonces(deviceId, { clientNonce: auth.issuedNonce });
          const scheme = account?.clientAuth.scheme ?? AuthScheme.Md5;
          const missing = auth.code === StatusCode.MissingCredentials;
          if (!missing) failure = { deviceId, address: req.remoteAddress, scheme, reason: account ? 'credentials' : 'unknown-device' };
          return {
            ...this.refuse(msg, req, auth.code, auth.chal),
            refused: { deviceId, reason: missing ? 'missing-credentials' : 'credentials', ...(account ? {} : { unknown: true }) },
          };
        }
        await this.deps.onAuthenticated?.(account!);
        started = await this.open(account!, msg, req);
        return started.handle(msg, req, auth);
      });
      if (started) await guard?.succeeded(deviceId, req.remoteAddress);
      return reply;
    } finally {
      if (started) this.settled(started);
      // counted (and delayed) outside the transaction: a growing delay must not hold a connection
      if (failure) await guard?.failed(failure);
    }
  }

  /**
   * What a device id without an account is checked against: md5 (the default scheme), a password
   * nobody has and a nonce that is as stable as a stored one (per id, per hour), so its answers look
   * like an account's.
   */
  private stranger(msg: Message): DeviceAccount {
    return {
      deviceId: msg.hdr.source.locUri,
      clientAuth: { scheme: AuthScheme.Md5, name: msg.hdr.source.locName ?? msg.hdr.source.locUri, password: this.strangerPassword },
      clientNonce: standInNonce(this.strangerKey, msg.hdr.source.locUri, this.deps.clock.now()),
    };
  }

  private settled(s: ServerSession): void {
    // an ended session stays reachable for a moment: a device that challenges our credentials
    // answers our last message, and gets our Cred with its new nonce (then it is over)
    if (s.ended && !s.lingers) this.forget(s);
  }

  /** The session of a device that just authenticated. */
  private async open(account: DeviceAccount, msg: Message, req: DmRequest): Promise<ServerSession> {
    const deviceId = account.deviceId;
    const old = this.byDevice.get(deviceId);
    if (old !== undefined) {
      // a device that starts over abandons its previous session (only once it proved itself:
      // a stranger using its id must not end its work)
      const stale = this.sessions.get(old);
      if (stale) {
        await stale.end('aborted');
        this.forget(stale);
        if (stale.learned) account = { ...account, profile: { ...account.profile, ...stale.learned } };
      }
    }
    const key = `${this.options.keyPrefix ?? ''}${Buffer.from(this.options.newNonce()).toString('base64url').slice(0, 16)}`;
    const session = new ServerSession(this.deps, this.options, { key, account, sessionId: msg.hdr.sessionId, encoding: req.encoding });
    this.sessions.set(key, session);
    this.byDevice.set(deviceId, key);
    return session;
  }

  /**
   * A DM answer that refuses the whole message (credentials, protocol version): Status only, one per
   * command, all with the header's code (digest §5.4), and a RespURI that leads to no session (the
   * device starts over there with Pkg1), shaped like a session's answer.
   */
  private refuse(msg: Message, req: DmRequest, code: number, chal?: Chal): WireMessage {
    const msgRef = msg.hdr.msgId;
    const statuses = [
      {
        kind: 'Status' as const,
        cmdId: 1,
        msgRef,
        cmdRef: 0,
        cmd: 'SyncHdr',
        targetRefs: [msg.hdr.target.locUri],
        sourceRefs: [msg.hdr.source.locUri],
        code,
        items: [],
        ...(chal ? { chal } : {}),
      },
      ...msg.body.commands
        .filter((c) => c.kind !== 'Status' && c.kind !== 'Results')
        .map((c, i) => ({ ...statusFor(msgRef, c, code), cmdId: i + 2 })),
    ];
    const sep = this.options.url.includes('?') ? '&' : '?';
    const verProto = /^DM\/1\.[23]$/.test(msg.hdr.verProto) ? msg.hdr.verProto : 'DM/1.2';
    const reply: Message = {
      hdr: {
        verDtd: '1.2',
        verProto,
        sessionId: msg.hdr.sessionId,
        msgId: 1,
        target: { locUri: msg.hdr.source.locUri },
        source: { locUri: this.options.url },
        respUri: `${this.options.url}${sep}s=${Buffer.from(this.options.newNonce()).toString('base64url').slice(0, 16)}`,
        meta: {
          maxMsgSize: this.options.maxMsgSize ?? 64 * 1024,
          ...(this.options.maxObjSize ? { maxObjSize: this.options.maxObjSize } : {}),
        },
      },
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
      await s.end('timeout', 'server');
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
