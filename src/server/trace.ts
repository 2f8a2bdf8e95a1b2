// Recent DM sessions as they went over the wire, for the dashboard's trace viewer: a bounded ring of
// sessions in memory, each with its messages capped by bytes, and a smaller ring of refused first
// messages (so a flood of them cannot push real sessions out). Bytes are kept as received; they are
// decoded, secrets masked and shown as XML (WBXML too) only when someone reads the trace.
import { encodeXmlString, type Command, type Item, type Message } from '../protocol/index.ts';
import { decodeMessage, type Encoding } from '../session/wire.ts';
import { SessionRate } from './session-rate.ts';
import type { TraceSource } from './trace-share.ts';

export const MAX_SESSIONS = 200;
export const MAX_REFUSED = 50;
export const MAX_SESSION_BYTES = 128 * 1024;
const MASK = '*****';
// what a DM tree holds as secrets: DMAcc AAuthSecret/AAuthData, GwMO Credentials AuthSecret,
// Bootstrap AuthSecret/ServerSecret, LwM2MCredentials SecretKey/BootstrapSecretKey, and anything named like a password
const SECRET_NODE = /(Secret|SecretKey|AAuthData|Password|PW)$/i;

/** Whether a node's value is a secret (masked in traces and in the API's operation reads). */
export const isSecretNode = (uri: string): boolean => SECRET_NODE.test(uri.split('?')[0]!);
const MASKED_BYTES = new TextEncoder().encode('\u0000gwmo-masked\u0000');
const MASKED_B64 = Buffer.from(MASKED_BYTES).toString('base64');

export interface TraceMessage {
  readonly direction: 'in' | 'out';
  /** `http`: the server refused the message with an HTTP status instead of a DM answer */
  readonly encoding: Encoding | 'http';
  readonly bytes: Uint8Array;
  readonly at: number;
  readonly httpStatus?: number;
}

export interface TracedSession {
  readonly id: string;
  readonly deviceId: string;
  readonly dmSessionId: string;
  readonly startedAt: number;
  endedAt?: number;
  outcome?: string;
  readonly messages: TraceMessage[];
  bytes: number;
  /** messages not kept: the session went over its byte cap */
  dropped: number;
  key?: string;
}

export interface TracedRequest {
  readonly body: Uint8Array;
  readonly encoding: Encoding;
  readonly url: string;
}

/** what the engine says of a message it refused before any session */
interface RefusedInfo {
  readonly deviceId?: string;
  readonly reason: string;
}

export type TracedReply =
  | { readonly body: Uint8Array; readonly encoding: Encoding; readonly refused?: RefusedInfo }
  | { readonly httpStatus: number; readonly message: string; readonly refused?: RefusedInfo };

export interface TraceListener {
  changed(session: TracedSession): void;
  dropped(id: string): void;
}

export class SessionTrace {
  private readonly sessions = new Map<string, TracedSession>();
  private readonly refused = new Map<string, TracedSession>();
  private readonly byKey = new Map<string, TracedSession>();
  private readonly maxSessions: number;
  private readonly maxRefused: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private next = 1;
  /** set when the trace is shared with other instances (trace-share.ts): fleet-unique ids, told of changes */
  private idPrefix = '';
  private listener: TraceListener | undefined;
  private readonly pendingEnd = new Map<string, string>();
  /** sessions ended per minute, and how many failed: every end is counted, kept in the ring or not */
  readonly rate: SessionRate;
  /** set when the trace is shared (trace-share.ts): the API lists the fleet's sessions from there */
  fleet: TraceSource | undefined;

  constructor(
    options: { maxSessions?: number; maxRefused?: number; maxSessionBytes?: number; now?: () => number; rateMinutes?: number } = {},
  ) {
    this.maxSessions = options.maxSessions ?? MAX_SESSIONS;
    this.maxRefused = options.maxRefused ?? MAX_REFUSED;
    this.maxBytes = options.maxSessionBytes ?? MAX_SESSION_BYTES;
    this.now = options.now ?? (() => Date.now());
    this.rate = new SessionRate(options.rateMinutes);
  }

  /** Ids start with `prefix` from now on, and `listener` hears of every session kept, changed or dropped. */
  watch(prefix: string, listener: TraceListener): void {
    this.idPrefix = prefix;
    this.listener = listener;
  }

  /** One message from a device and the server's answer (called where the DM server handles it). */
  record(req: TracedRequest, reply: TracedReply): void {
    const key = new URL(req.url, 'http://x').searchParams.get('s');
    const known = key !== null ? this.byKey.get(key) : undefined;
    const at = this.now();
    if (!known && (reply.refused !== undefined || 'httpStatus' in reply)) {
      this.keepRefused(req, reply, at);
      // refused before the engine held a session: no end is reported for it. A challenge for missing
      // credentials is how a device's first contact often goes (it answers with them): not a failure
      if (reply.refused?.reason !== 'missing-credentials') this.rate.ended(at, true);
      return;
    }
    const session = known ?? this.open(req);
    this.keep(session, { direction: 'in', encoding: req.encoding, bytes: req.body, at });
    if ('httpStatus' in reply) {
      this.keep(session, {
        direction: 'out',
        encoding: 'http',
        bytes: new TextEncoder().encode(reply.message),
        at,
        httpStatus: reply.httpStatus,
      });
      return;
    }
    this.keep(session, { direction: 'out', encoding: reply.encoding, bytes: reply.body, at });
    const early = known ? undefined : this.pendingEnd.get(session.deviceId);
    if (early !== undefined) {
      this.pendingEnd.delete(session.deviceId);
      this.close(session, early);
    }
    if (session.key === undefined) {
      // the server's first answer names the session's RespURI (?s=<key>): later messages come there
      const next = respKey(reply.body, reply.encoding);
      if (next !== undefined) {
        session.key = next;
        this.byKey.set(next, session);
      }
    }
  }

  /** The server ended the device's session (done, auth-failed, aborted, timeout). */
  ended(deviceId: string, outcome: string): void {
    this.rate.ended(this.now(), outcome !== 'done');
    const open = [...this.sessions.values()].reverse().find((s) => s.deviceId === deviceId && s.endedAt === undefined);
    if (open) this.close(open, outcome);
    // the end can come while the session's first message is handled, before it is recorded
    else {
      if (this.pendingEnd.size >= this.maxSessions) this.pendingEnd.clear();
      this.pendingEnd.set(deviceId, outcome);
    }
  }

  /** newest first */
  list(): readonly TracedSession[] {
    return [...this.sessions.values(), ...this.refused.values()].sort((a, b) => Number(b.id) - Number(a.id));
  }

  get(id: string): TracedSession | undefined {
    return this.sessions.get(id) ?? this.refused.get(id);
  }

  /** sessions kept, and refused first messages kept (each ring has its own cap) */
  get counts(): { sessions: number; refused: number } {
    return { sessions: this.sessions.size, refused: this.refused.size };
  }

  /** A message refused before any session: its own ring, closed at once; nothing decoded for it. */
  private keepRefused(req: TracedRequest, reply: TracedReply, at: number): void {
    const s: TracedSession = {
      id: `${this.idPrefix}${this.next++}`,
      deviceId: reply.refused?.deviceId ?? '(undecodable)',
      dmSessionId: '',
      startedAt: at,
      messages: [],
      bytes: 0,
      dropped: 0,
    };
    this.keep(s, { direction: 'in', encoding: req.encoding, bytes: req.body, at });
    if ('httpStatus' in reply)
      this.keep(s, {
        direction: 'out',
        encoding: 'http',
        bytes: new TextEncoder().encode(reply.message),
        at,
        httpStatus: reply.httpStatus,
      });
    else this.keep(s, { direction: 'out', encoding: reply.encoding, bytes: reply.body, at });
    this.close(s, 'httpStatus' in reply ? `refused (HTTP ${reply.httpStatus})` : `refused (${reply.refused!.reason})`);
    this.refused.set(s.id, s);
    this.listener?.changed(s);
    while (this.refused.size > this.maxRefused) {
      const oldest = this.refused.keys().next().value!;
      this.refused.delete(oldest);
      this.listener?.dropped(oldest);
    }
  }

  private open(req: TracedRequest): TracedSession {
    let deviceId = '(undecodable)';
    let dmSessionId = '';
    try {
      const msg = decodeMessage(req.body, req.encoding);
      deviceId = msg.hdr.source.locUri;
      dmSessionId = msg.hdr.sessionId;
    } catch {
      // kept anyway: an undecodable message is what one wants to see in a trace
    }
    const session: TracedSession = {
      id: `${this.idPrefix}${this.next++}`,
      deviceId,
      dmSessionId,
      startedAt: this.now(),
      messages: [],
      bytes: 0,
      dropped: 0,
    };
    this.sessions.set(session.id, session);
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.values().next().value!;
      this.sessions.delete(oldest.id);
      if (oldest.key !== undefined) this.byKey.delete(oldest.key);
      this.listener?.dropped(oldest.id);
    }
    return session;
  }

  private close(s: TracedSession, outcome: string): void {
    s.endedAt = this.now();
    s.outcome = outcome;
    this.listener?.changed(s);
  }

  private keep(s: TracedSession, m: TraceMessage): void {
    if (s.bytes + m.bytes.length > this.maxBytes) {
      s.dropped++;
    } else {
      s.bytes += m.bytes.length;
      // a body is often a view into a larger buffer (a socket read, Buffer's pool): kept as it is, each
      // message held that whole buffer, up to 64 KiB, far beyond the byte cap (the soak's instances
      // grew by ~13 MB of them while the ring filled); a copy holds only its own bytes
      const own = m.bytes.byteLength === m.bytes.buffer.byteLength ? m : { ...m, bytes: new Uint8Array(m.bytes) };
      s.messages.push(own);
    }
    if (this.sessions.has(s.id)) this.listener?.changed(s);
  }
}

function respKey(body: Uint8Array, encoding: Encoding): string | undefined {
  try {
    const uri = decodeMessage(body, encoding).hdr.respUri;
    return uri === undefined ? undefined : (new URL(uri, 'http://x').searchParams.get('s') ?? undefined);
  } catch {
    return undefined;
  }
}

const secretItem = (it: Item): boolean => isSecretNode(it.target?.locUri ?? it.source?.locUri ?? '');

function maskItem(it: Item): Item {
  if (it.data === undefined || !secretItem(it)) return it;
  return { ...it, data: typeof it.data === 'string' ? MASK : MASKED_BYTES };
}

function maskCommand(c: Command): Command {
  switch (c.kind) {
    case 'Atomic':
    case 'Sequence':
      return { ...c, commands: c.commands.map(maskCommand) };
    case 'Exec':
      return { ...c, item: maskItem(c.item) };
    case 'Status':
      return { ...c, ...(c.cred ? { cred: { ...c.cred, data: MASK } } : {}), items: c.items.map(maskItem) };
    case 'Unsupported':
      return c;
    default:
      return { ...c, items: c.items.map(maskItem) };
  }
}

/** the message with credentials (SyncHdr and Status Cred) and secret node values replaced by ***** */
export function maskSecrets(msg: Message): Message {
  return {
    hdr: { ...msg.hdr, ...(msg.hdr.cred ? { cred: { ...msg.hdr.cred, data: MASK } } : {}) },
    body: { ...msg.body, commands: msg.body.commands.map(maskCommand) },
  };
}

/** A kept message as XML text with its secrets masked (WBXML decoded with our codec first). */
export function messageXml(m: TraceMessage): string {
  if (m.encoding === 'http') return `HTTP ${m.httpStatus}: ${new TextDecoder().decode(m.bytes)}`;
  try {
    return encodeXmlString(maskSecrets(decodeMessage(m.bytes, m.encoding, { maxBytes: Number.MAX_SAFE_INTEGER }))).replaceAll(
      MASKED_B64,
      MASK,
    );
  } catch (err) {
    return `<!-- undecodable ${m.encoding} message of ${m.bytes.length} bytes: ${(err as Error).message} -->`;
  }
}
