// One DM session seen from the device: Pkg1, then one answer per server message until the server
// has nothing more to say. Message in → message out; the role posts each one to `nextUrl`.
import {
  AlertCode,
  AuthScheme,
  type Chal,
  type Command,
  checkCred,
  checkHmac,
  formatHmacHeader,
  hmac,
  type Item,
  makeChal,
  makeCred,
  type Message,
  newNonce,
  nonceFromText,
  RESYNC_NONCE,
  type Results,
  type Status,
  StatusCode,
} from '../../protocol/index.ts';
import type { Principal } from '../../tree/api.ts';
import { announcedSize, sliceData } from '../chunks.ts';
import { statusFor } from '../refs.ts';
import { decodeMessage, encodeMessage, type WireMessage } from '../wire.ts';
import { execute, writeOf } from './execute.ts';
import { IncomingObject } from './large-object.ts';
import type { ClientAccount, ClientDeps, OutgoingAlert } from './types.ts';

const MAX_AUTH_ATTEMPTS = 3;
const DEFAULT_PEER_MAX_MSG = 16 * 1024;

export type SessionEnd = 'done' | 'auth-failed' | 'aborted' | 'server-not-authenticated';

export class ClientSession {
  readonly sessionId: string;
  /** where the next message goes: the server URL, then the latest RespURI */
  nextUrl: string;
  ended: SessionEnd | undefined;
  private readonly deps: ClientDeps;
  private account: ClientAccount;
  private readonly who: Principal;
  private readonly initiator: number;
  private msgId = 0;
  private authenticated = false;
  private authAttempts = 0;
  /** server messages whose credentials we refused in this session */
  private serverRefusals = 0;
  private serverVerified = false;
  private peerMaxMsg = DEFAULT_PEER_MAX_MSG;
  private scheme: AuthScheme;
  /** Status/Results/alerts waiting for room in a message */
  private outbox: Command[] = [];
  private incoming: IncomingObject | undefined;
  /** remainders of Results being sent in chunks (their Size went with the first chunk) */
  private readonly sentChunks = new WeakSet<Results>();
  private serverFinal = true;
  private pendingServerNonce: Uint8Array | undefined;
  private unverifiedClientNonce: Uint8Array | undefined;
  /** quirk replyBuffer: the abort went out, the session is over whatever the server says */
  private aborting = false;

  constructor(deps: ClientDeps, options: { sessionId: string; initiator: 'server' | 'client' }) {
    this.deps = deps;
    this.account = deps.account;
    this.sessionId = options.sessionId;
    this.nextUrl = deps.account.serverUrl;
    this.who = { kind: 'server', serverId: deps.account.serverId };
    this.initiator = options.initiator === 'server' ? AlertCode.ServerInitiatedMgmt : AlertCode.ClientInitiatedMgmt;
    this.scheme = deps.account.clientAuth.scheme;
  }

  /** Pkg1: the session alert, DevInfo and any pending Generic Alerts. */
  start(): WireMessage {
    this.outbox = [...this.pkg1Commands(), ...this.alertCommands(this.deps.takeAlerts?.() ?? [])];
    return this.send();
  }

  /** Answers a server message; undefined when the session is over (nothing to send). */
  async receive(wire: WireMessage): Promise<WireMessage | undefined> {
    if (this.aborting) return this.finish('aborted');
    const msg = decodeMessage(wire.body, wire.encoding, { maxBytes: this.deps.maxMsgSize ?? 1024 * 1024 });
    if (msg.hdr.respUri) this.nextUrl = msg.hdr.respUri;
    if (msg.hdr.meta?.maxMsgSize !== undefined) this.peerMaxMsg = msg.hdr.meta.maxMsgSize;
    // a "next message" answer (Status + 1222 only) neither opens nor closes the server's package
    const content = msg.body.commands.some((c) => c.kind !== 'Status' && !(c.kind === 'Alert' && c.data === AlertCode.NextMessage));
    // (Final with only Status closes it: a server that stops a large object midway ends its package so)
    if (content || msg.body.final) this.serverFinal = msg.body.final;
    const msgRef = msg.hdr.msgId;

    // 1. the server's verdict on our credentials
    const hdrStatus = msg.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef === 0);
    if (hdrStatus?.chal) await this.adoptChallenge(hdrStatus.chal);
    if (hdrStatus && (hdrStatus.code === StatusCode.Unauthorized || hdrStatus.code === StatusCode.MissingCredentials)) {
      this.authAttempts++;
      if (this.authAttempts >= MAX_AUTH_ATTEMPTS || !hdrStatus.chal) return this.finish('auth-failed');
      // back to Pkg1 with credentials (digest §5.4)
      this.outbox = [...this.pkg1Commands()];
      return this.send();
    }
    if (hdrStatus?.code === StatusCode.AuthAccepted) this.authenticated = true;

    // 2. our verdict on the server's credentials
    const serverCheck = this.checkServer(msg, wire);
    if (serverCheck.ok && this.unverifiedClientNonce) {
      await this.deps.saveNonces({ clientNonce: this.unverifiedClientNonce });
      this.unverifiedClientNonce = undefined;
    }
    const header: Status = {
      kind: 'Status',
      cmdId: 0,
      msgRef,
      cmdRef: 0,
      cmd: 'SyncHdr',
      targetRefs: [msg.hdr.target.locUri],
      sourceRefs: [msg.hdr.source.locUri],
      code: serverCheck.code,
      items: [],
      ...(serverCheck.chal ? { chal: serverCheck.chal } : {}),
    };
    const management = msg.body.commands.filter((c) => c.kind !== 'Status' && c.kind !== 'Results');
    if (!serverCheck.ok) {
      // a server that keeps failing is not challenged for ever (it may be answering each refusal too)
      if (++this.serverRefusals > MAX_AUTH_ATTEMPTS) return this.finish('server-not-authenticated');
      this.outbox = [header, ...management.map((c) => statusFor(msgRef, c, serverCheck.code))];
      return this.send();
    }

    const buffer = this.deps.quirks?.replyBuffer;
    if (buffer !== undefined && management.filter((c) => c.kind === 'Get').length > buffer) {
      // quirk: the Results would not fit a fixed reply buffer; the device gives up on the session
      this.aborting = true;
      this.outbox = [header, { kind: 'Alert', cmdId: 0, data: AlertCode.SessionAbort, items: [] }];
      return this.send();
    }

    // 3. Status for what we sent; execute what the server asks
    const answers: Command[] = [];
    for (const cmd of msg.body.commands) {
      if (cmd.kind === 'Status' || cmd.kind === 'Results') continue;
      if (cmd.kind === 'Alert' && cmd.data === AlertCode.SessionAbort) return this.finish('aborted');
      if (cmd.kind === 'Alert' && cmd.data === AlertCode.NextMessage) {
        answers.push(statusFor(msgRef, cmd, StatusCode.Ok));
        continue;
      }
      answers.push(...(await this.run(cmd, msgRef)));
    }
    // alerts raised by what just ran (a quirk of some clients: ClientDeps.raisedAlerts)
    const raised = this.alertCommands(this.deps.raisedAlerts?.() ?? []);
    // a NextNonce in our header Status is no reason to answer: it waits for the next session
    const needsAnswer = management.length > 0 || this.outbox.length > 0 || raised.length > 0;
    if (!needsAnswer && this.serverFinal) return this.finish('done');
    this.outbox = [header, ...answers, ...raised, ...this.outbox];
    return this.send();
  }

  private async run(cmd: Command, msgRef: number): Promise<Command[]> {
    // large objects: a chunk with MoreData is buffered and answered 213; the last chunk executes
    if ((cmd.kind === 'Add' || cmd.kind === 'Replace') && cmd.items.length === 1) {
      const item = cmd.items[0]!;
      const uri = item.target?.locUri ?? '';
      if (this.incoming !== undefined && (this.incoming.uri !== uri || this.incoming.kind !== cmd.kind)) {
        // another command came between chunks: the object is dropped (1225)
        const dropped = this.incoming;
        this.incoming = undefined;
        const alert: Command = { kind: 'Alert', cmdId: 0, data: AlertCode.NoEndOfData, items: [{ target: { locUri: dropped.uri } }] };
        return [alert, ...(await this.run(cmd, msgRef))];
      }
      if (item.moreData && this.deps.quirks?.chunkAnsweredOk) {
        // quirk: no large-object support; the chunk is taken for the whole value
        const { moreData: _more, ...whole } = item;
        const meta = { ...item.meta };
        delete (meta as { size?: number }).size;
        const a = await execute({ ...cmd, items: [{ ...whole, meta }] }, { tree: this.deps.tree, who: this.who, msgRef });
        return [...a.statuses, ...a.results];
      }
      if (item.moreData || this.incoming !== undefined) {
        const write = writeOf(item, cmd.meta);
        if (this.incoming === undefined) {
          const size = item.meta?.size ?? cmd.meta?.size;
          if (size !== undefined && this.deps.maxObjSize !== undefined && size > this.deps.maxObjSize) {
            return [statusFor(msgRef, cmd, StatusCode.RequestEntityTooLarge)];
          }
          this.incoming = new IncomingObject(cmd.kind, uri, write.format ?? 'chr', write.type, size);
        }
        this.incoming.add(item.data);
        if (item.moreData) return [statusFor(msgRef, cmd, StatusCode.ChunkAccepted)];
        const whole = this.incoming;
        this.incoming = undefined;
        if (!whole.sizeMatches()) return [statusFor(msgRef, cmd, StatusCode.SizeMismatch)];
        const data = whole.whole();
        const full = {
          ...cmd,
          items: [
            { ...item, data, moreData: false, meta: { ...item.meta, format: whole.format, ...(whole.type ? { type: whole.type } : {}) } },
          ],
        };
        const a = await execute(full, { tree: this.deps.tree, who: this.who, msgRef });
        return [...a.statuses, ...a.results];
      }
    }
    const ui = this.deps.ui;
    const a = await execute(cmd, { tree: this.deps.tree, who: this.who, msgRef, ...(ui ? { ui: ui.bind(this.deps) } : {}) });
    return [...a.statuses, ...a.results];
  }

  private checkServer(msg: Message, wire: WireMessage): { ok: boolean; code: number; chal?: Chal } {
    const want = this.account.serverAuth;
    if (want === undefined) return { ok: true, code: StatusCode.Ok };
    const nonces = [this.account.serverNonce ?? (this.deps.quirks?.emptyServerNonce ? new Uint8Array(0) : RESYNC_NONCE)];
    if (this.scheme === AuthScheme.Hmac) {
      const verdict = checkHmac(wire.hmac, wire.body, (u) => (u === want.name ? want : undefined), nonces).verdict;
      const chal = this.issueServerNonce(AuthScheme.Hmac);
      if (verdict === 'ok') return { ok: true, code: StatusCode.Ok, chal };
      return { ok: false, code: verdict === 'missing' ? StatusCode.MissingCredentials : StatusCode.Unauthorized, chal };
    }
    if (this.serverVerified) return { ok: true, code: StatusCode.Ok };
    const verdict = checkCred(msg.hdr.cred, { scheme: AuthScheme.Md5, ...want }, nonces).verdict;
    const chal = this.issueServerNonce(AuthScheme.Md5);
    if (verdict === 'ok') {
      this.serverVerified = true;
      return { ok: true, code: StatusCode.AuthAccepted, chal };
    }
    return { ok: false, code: verdict === 'missing' ? StatusCode.MissingCredentials : StatusCode.Unauthorized, chal };
  }

  private issueServerNonce(scheme: AuthScheme): Chal {
    const nonce = this.deps.newNonce?.() ?? newNonce();
    // kept only once the message carrying it is sent: a session that ends without an answer
    // leaves the server with the nonce it had
    this.pendingServerNonce = nonce;
    return makeChal(scheme, nonce);
  }

  private async adoptChallenge(chal: Chal): Promise<void> {
    const type = chal.meta.type;
    if (type === AuthScheme.Basic || type === AuthScheme.Md5 || type === AuthScheme.Hmac) this.scheme = type;
    if (chal.meta.nextNonce === undefined) return;
    const clientNonce = nonceFromText(chal.meta.nextNonce);
    this.account = { ...this.account, clientNonce };
    // used at once, but kept only once the server is authenticated (nonce poisoning, digest §5.4)
    this.unverifiedClientNonce = clientNonce;
  }

  private pkg1Commands(): Command[] {
    const alert: Command = { kind: 'Alert', cmdId: 0, data: this.initiator, items: [] };
    const items: Item[] = Object.entries(this.deps.devInfo).map(([name, value]) => ({
      source: { locUri: `./DevInfo/${name}` },
      data: value,
    }));
    return [alert, { kind: 'Replace', cmdId: 0, items }];
  }

  private alertCommands(alerts: readonly OutgoingAlert[]): Command[] {
    return alerts.map((a) => ({
      kind: 'Alert' as const,
      cmdId: 0,
      data: a.code,
      ...(a.correlator ? { correlator: a.correlator } : {}),
      items: a.items.map((i) => ({
        ...(i.source ? { source: { locUri: i.source } } : {}),
        ...(i.target ? { target: { locUri: i.target } } : {}),
        meta: { type: i.type, format: i.format, ...(i.mark ? { mark: i.mark } : {}) },
        data: i.data,
      })),
    }));
  }

  /** Sends as much of the outbox as fits the server's MaxMsgSize; Final only when all of it went. */
  private send(): WireMessage {
    if (this.pendingServerNonce) {
      this.account = { ...this.account, serverNonce: this.pendingServerNonce };
      if (!this.deps.quirks?.serverNonceNotPersisted) void this.deps.saveNonces({ serverNonce: this.pendingServerNonce });
      this.pendingServerNonce = undefined;
    }
    const serverFinal = this.serverFinal;
    this.msgId++;
    const fits = (commands: Command[], final: boolean): boolean => this.encode(commands, final).length <= this.peerMaxMsg;
    const taken: Command[] = [];
    // the SyncHdr Status (and Pkg1's Alert) always go first
    while (this.outbox.length > 0) {
      const next = this.outbox[0]!;
      if (taken.length === 0 || fits([...taken, next], false)) {
        taken.push(this.outbox.shift()!);
        continue;
      }
      if (next.kind === 'Results' && next.items.length > 1) {
        // split a Results that does not fit into two with the same CmdRef
        const half = Math.ceil(next.items.length / 2);
        this.outbox.splice(0, 1, { ...next, items: next.items.slice(0, half) }, { ...next, items: next.items.slice(half) });
        continue;
      }
      if (next.kind === 'Results' && next.items.length === 1 && next.items[0]?.data !== undefined) {
        // a value too large for the room left: a large object, one chunk per message
        const cut = this.cutResults(next, (r) => fits([...taken, r], false));
        if (cut) {
          taken.push(cut[0]);
          this.outbox.splice(0, 1, cut[1]);
        }
      }
      break;
    }
    const final = serverFinal && this.outbox.length === 0;
    if (!serverFinal && !taken.some((c) => c.kind === 'Alert')) {
      taken.push({ kind: 'Alert', cmdId: 0, data: AlertCode.NextMessage, items: [] });
    }
    const body = this.encode(taken, final);
    return { body, encoding: this.deps.encoding, ...this.hmacHeader(body) };
  }

  /** The first chunk of a one-item Results that fits, and the rest (a Results holding the remainder). */
  private cutResults(results: Results, fits: (r: Results) => boolean): [Results, Results] | undefined {
    const item = results.items[0]!;
    const data = item.data!;
    const format = item.meta?.format;
    const first = item.meta?.size === undefined && !this.sentChunks.has(results);
    let units = Math.max(1, Math.min(data.length, this.peerMaxMsg));
    for (;;) {
      const { part, next } = sliceData(data, format, 0, units);
      const meta = { ...item.meta, ...(first ? { size: announcedSize(data, format) } : {}) };
      const chunk: Results = { ...results, items: [{ ...item, meta, data: part, moreData: true }] };
      if (!fits(chunk) && units <= 16) return undefined; // not even a small chunk fits: next message
      if (fits(chunk)) {
        const restMeta = { ...item.meta };
        delete (restMeta as { size?: number }).size;
        const rest: Results = {
          ...results,
          items: [{ ...item, meta: restMeta, data: typeof data === 'string' ? data.slice(next) : data.subarray(next) }],
        };
        this.sentChunks.add(rest);
        return [chunk, rest];
      }
      units = Math.max(1, Math.floor(units * 0.8));
    }
  }

  private encode(commands: Command[], final: boolean): Uint8Array {
    let cmdId = 1;
    const numbered = commands.map((c) => ({ ...c, cmdId: cmdId++ }));
    const cred = this.credential();
    const msg: Message = {
      hdr: {
        verDtd: '1.2',
        verProto: 'DM/1.2',
        sessionId: this.sessionId,
        msgId: this.msgId,
        target: { locUri: this.account.serverUrl },
        source: { locUri: this.deps.devInfo['DevId'] ?? 'unknown', locName: this.account.clientAuth.name },
        ...(cred ? { cred } : {}),
        meta: { maxMsgSize: this.deps.maxMsgSize ?? 64 * 1024, ...(this.deps.maxObjSize ? { maxObjSize: this.deps.maxObjSize } : {}) },
      },
      body: { commands: numbered as Command[], final },
    };
    return encodeMessage(msg, this.deps.encoding);
  }

  private credential() {
    if (this.authenticated || this.scheme === AuthScheme.Hmac) return undefined;
    return makeCred(this.scheme, this.account.clientAuth, this.account.clientNonce ?? new Uint8Array(0));
  }

  private hmacHeader(body: Uint8Array): { hmac?: string } {
    if (this.scheme !== AuthScheme.Hmac) return {};
    const { name, password } = this.account.clientAuth;
    return { hmac: formatHmacHeader({ username: name, mac: hmac(name, password, this.account.clientNonce ?? new Uint8Array(0), body) }) };
  }

  private finish(end: SessionEnd): undefined {
    this.ended = end;
    this.pendingServerNonce = undefined;
    return undefined;
  }
}
