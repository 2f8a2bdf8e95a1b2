// The DM client agent: a tree with its DMAcc, the client session engine and an HTTP client. Runs a
// session on demand, when a verified Package#0 arrives, and on a check-in period.
import {
  AuthScheme,
  decodeNotification,
  type DecodedNotification,
  NotificationError,
  RESYNC_NONCE,
  RESYNC_NONCE_TEXT,
  sessionIdToHeader,
  verifyNotification,
} from '../protocol/index.ts';
import type { Clock } from '../session/clock.ts';
import { ClientSession, type SessionEnd } from '../session/client/session.ts';
import type { OutgoingAlert, UiAnswer } from '../session/client/types.ts';
import type { ClientQuirks } from '../session/client/quirks.ts';
import type { Encoding } from '../session/wire.ts';
import type { DmHttpClient } from '../transport/index.ts';
import { type AAuthType, type DmAccount, readAccounts, readDevInfo, type Tree, writeNonce } from '../tree/index.ts';
import { checkQuirks, type ClientQuirk, quirkyMessage } from './quirks.ts';

const SCHEME: Record<AAuthType, AuthScheme> = { BASIC: AuthScheme.Basic, DIGEST: AuthScheme.Md5, HMAC: AuthScheme.Hmac };

export interface AgentOptions {
  readonly tree: Tree;
  readonly http: DmHttpClient;
  readonly clock: Clock;
  readonly encoding: Encoding;
  readonly maxMsgSize?: number;
  readonly maxObjSize?: number;
  readonly ui?: (alert: import('../protocol/index.ts').Alert) => UiAnswer | Promise<UiAnswer>;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
  /** markup and flow of some deployed clients (tests, `gwmo fleet --quirks`): src/client/quirks.ts */
  readonly wireQuirks?: readonly ClientQuirk[];
  /** session behaviours of some deployed clients (tests, `gwmo fleet --quirks`): src/session/client/quirks.ts */
  readonly quirks?: ClientQuirks;
  /** alerts kept elsewhere until a session starts (the gateway's LwM2M batch): taken then, and only when no others wait */
  readonly pendingAlerts?: () => readonly OutgoingAlert[];
}

export interface SessionReport {
  readonly serverId: string;
  readonly sessionId: string;
  readonly end: SessionEnd | 'error';
  readonly messages: number;
  readonly error?: string;
}

export class DmClientAgent {
  private readonly options: AgentOptions;
  private readonly alerts: OutgoingAlert[] = [];
  /** alerts for one server (an Exec's result goes to the server that sent the Exec), by server id */
  private readonly addressed = new Map<string, OutgoingAlert[]>();
  private running: Promise<SessionReport> | undefined;
  private sessionCounter = 0;
  private readonly wireQuirks: ReadonlySet<ClientQuirk>;
  /** per server: the RespURI the last session ended on (quirk resend-to-respuri) */
  private readonly lastRespUri = new Map<string, string>();

  constructor(options: AgentOptions) {
    this.options = options;
    checkQuirks(options.wireQuirks ?? [], options.encoding);
    this.wireQuirks = new Set(options.wireQuirks ?? []);
  }

  get tree(): Tree {
    return this.options.tree;
  }

  account(serverId?: string): DmAccount {
    const accounts = readAccounts(this.options.tree);
    // several accounts for one server: the newest (last written, e.g. by a bootstrap) wins
    const acc = serverId === undefined ? accounts[0] : accounts.filter((a) => a.serverId === serverId).pop();
    if (!acc) throw new Error(serverId === undefined ? 'the device has no DM account (./DMAcc)' : `no DM account for server ${serverId}`);
    return acc;
  }

  /** Queues a Generic Alert for the next session (e.g. the result of an Exec answered 202); with `serverId`, the next one with that server. */
  queueAlert(alert: OutgoingAlert, serverId?: string): void {
    if (serverId === undefined) this.alerts.push(alert);
    else this.addressed.set(serverId, [...(this.addressed.get(serverId) ?? []), alert]);
  }

  /** One whole session with the server; sessions never overlap (a second call waits for the first). */
  async session(initiator: 'client' | 'server' = 'client', sessionId?: string, serverId?: string): Promise<SessionReport> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.run(initiator, sessionId, serverId);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** Verifies a Package#0 and, when it is genuine, opens the session it asks for. */
  async notified(bytes: Uint8Array): Promise<SessionReport | undefined> {
    let n: DecodedNotification;
    try {
      n = decodeNotification(bytes);
    } catch (err) {
      if (err instanceof NotificationError) {
        this.options.log?.('notification.invalid', { error: err.message, code: err.code });
        return undefined;
      }
      throw err;
    }
    // the account the session will run on (the newest for that server): its server nonce keys the digest
    const acc = readAccounts(this.options.tree)
      .filter((a) => a.serverId === n.serverId)
      .pop();
    if (!acc || !acc.server) {
      this.options.log?.('notification.ignored', { serverId: n.serverId, reason: 'no account with server credentials' });
      return undefined;
    }
    const stored = acc.server.data ?? (this.options.quirks?.emptyServerNonce ? new Uint8Array(0) : undefined);
    const candidates = [
      ...(stored ? [{ source: 'stored' as const, nonce: stored }] : []),
      { source: 'resync' as const, nonce: RESYNC_NONCE },
      { source: 'resync-text' as const, nonce: RESYNC_NONCE_TEXT },
    ];
    const matched = verifyNotification(n, acc.server.secret, candidates);
    if (!matched) {
      this.options.log?.('notification.ignored', { serverId: n.serverId, reason: 'digest does not verify' });
      return undefined;
    }
    // after a resync both sides authenticate with the resync nonce
    if (matched.source !== 'stored') writeNonce(this.options.tree, acc.id, 'SRVCRED', RESYNC_NONCE);
    return this.session('server', sessionIdToHeader(n.sessionId), n.serverId);
  }

  private async run(initiator: 'client' | 'server', sessionId: string | undefined, serverId: string | undefined): Promise<SessionReport> {
    const acc = this.account(serverId);
    const tree = this.options.tree;
    const id = sessionId ?? (((this.options.clock.now() / 1000) & 0xfff0) + (++this.sessionCounter % 16)).toString(16).toUpperCase();
    const forThis = this.addressed.get(acc.serverId) ?? [];
    this.addressed.delete(acc.serverId);
    const taken = this.alerts.splice(0);
    // alerts a failed session gave back go first; the others wait where they are kept (and bounded)
    if (taken.length === 0 && forThis.length === 0 && this.options.pendingAlerts) taken.push(...this.options.pendingAlerts());
    const giveBack = (): void => {
      this.alerts.unshift(...taken);
      if (forThis.length > 0) this.addressed.set(acc.serverId, [...forThis, ...(this.addressed.get(acc.serverId) ?? [])]);
    };
    const session = new ClientSession(
      {
        tree,
        clock: this.options.clock,
        devInfo: readDevInfo(tree),
        encoding: this.options.encoding,
        account: {
          serverId: acc.serverId,
          serverUrl: acc.addr,
          clientAuth: { scheme: SCHEME[acc.client.type] ?? AuthScheme.Md5, name: acc.client.name, password: acc.client.secret },
          ...(acc.server ? { serverAuth: { name: acc.server.name, password: acc.server.secret } } : {}),
          ...(acc.client.data ? { clientNonce: acc.client.data } : {}),
          ...(acc.server?.data ? { serverNonce: acc.server.data } : {}),
        },
        saveNonces: (n) => {
          if (n.clientNonce) writeNonce(tree, acc.id, 'CLCRED', n.clientNonce);
          if (n.serverNonce) writeNonce(tree, acc.id, 'SRVCRED', n.serverNonce);
        },
        takeAlerts: () => [...forThis, ...taken],
        ...(this.wireQuirks.has('alert-with-status') ? { raisedAlerts: () => this.alerts.splice(0) } : {}),
        ...(this.options.ui ? { ui: this.options.ui } : {}),
        ...(this.options.maxMsgSize ? { maxMsgSize: this.options.maxMsgSize } : {}),
        ...(this.options.maxObjSize ? { maxObjSize: this.options.maxObjSize } : {}),
        ...(this.options.quirks ? { quirks: this.options.quirks } : {}),
      },
      { sessionId: id, initiator },
    );
    let messages = 0;
    const resend = this.wireQuirks.has('resend-to-respuri');
    if (resend) session.nextUrl = this.lastRespUri.get(acc.serverId) ?? session.nextUrl;
    try {
      let out = session.start();
      for (;;) {
        messages++;
        const reply = await this.options.http.post(session.nextUrl, this.wireQuirks.size > 0 ? quirkyMessage(out, this.wireQuirks) : out);
        const next = await session.receive(reply);
        if (resend) this.lastRespUri.set(acc.serverId, session.nextUrl);
        if (next === undefined) break;
        out = next;
      }
      const end = session.ended ?? 'done';
      if (end !== 'done') giveBack();
      this.options.log?.('session.end', { serverId: acc.serverId, sessionId: id, end, messages });
      return { serverId: acc.serverId, sessionId: id, end, messages };
    } catch (err) {
      // alerts not delivered go out with the next session
      giveBack();
      const error = err instanceof Error ? err.message : String(err);
      this.options.log?.('session.error', { serverId: acc.serverId, sessionId: id, error });
      return { serverId: acc.serverId, sessionId: id, end: 'error', messages, error };
    }
  }
}
