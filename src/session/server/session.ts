// One DM session seen from the server: authenticates the device, answers its commands, sends the
// queued operations package by package and files their Status/Results. Message in → message out.
import {
  AlertCode,
  type Alert,
  type Command,
  type ItemData,
  type Message,
  type Results,
  MessageError,
  MessageErrorCode,
  type Status,
  StatusCode,
  effectiveFormat,
} from '../../protocol/index.ts';
import { statusFor } from '../refs.ts';
import { encodeMessage, type Encoding, type WireMessage } from '../wire.ts';
import { type AuthDecision, authenticateDevice, serverCred, serverHmac } from './auth.ts';
import { announcedSize, sliceData } from '../chunks.ts';
import { commandFor } from './outgoing.ts';
import type {
  AuthFailure,
  DeviceAccount,
  LearnedProfile,
  Operation,
  ResultItem,
  ServerDeps,
  ServerOptions,
  SessionSummary,
} from './types.ts';
import { lowered, Notes, resendable, SERVER_AUTH_RESENDS, serverRefusedNote } from './profile.ts';

interface InFlight {
  readonly op: Operation;
  /** the device's Status code, once it came (Results may follow it, even in later messages) */
  status?: number;
  /** the op's data is being sent in chunks: the next offset, or undefined when done */
  chunkOffset?: number | undefined;
  readonly results: ResultItem[];
  /** why it failed, when the status alone does not say */
  note?: string;
}

interface IncomingChunk {
  readonly uri: string;
  readonly format?: string;
  readonly type?: string;
  readonly parts: ItemData[];
  readonly flight: InFlight | undefined;
}

const DEFAULT_PEER_MAX_MSG = 16 * 1024;
const LIMITS = { maxAuthAttempts: 3, maxOpsPerPackage: 100 };

export class ServerSession {
  readonly key: string;
  readonly deviceId: string;
  readonly sessionId: string;
  lastActivity: number;
  ended = false;
  outcome: SessionSummary['outcome'] | undefined;
  private account: DeviceAccount;
  private readonly encoding: Encoding;
  private verProto = 'DM/1.2';
  private authenticated = false;
  private authFailures = 0;
  private serverAccepted = false;
  private msgId = 0;
  private messages = 0;
  private completed = 0;
  private peerMaxMsg = DEFAULT_PEER_MAX_MSG;
  private peerMaxObj: number | undefined;
  /** sent, awaiting Status: key `${msgId}:${cmdId}` */
  private readonly inFlight = new Map<string, InFlight>();
  /** taken from the queue, not sent yet */
  private backlog: Operation[] = [];
  private chunking: InFlight | undefined;
  private incoming: IncomingChunk | undefined;
  /** answered with a Status; completed once their Results are in */
  private readonly answered = new Map<string, InFlight>();
  private remoteAddress: string | undefined;
  /** times the device refused our credentials in this session (each time our commands went again) */
  private serverRefusals = 0;
  /** our Cred is made with a nonce the device gave in this session (not a stored one that may be stale) */
  private nonceFromChal = false;
  /** the last Cred we sent was: a refusal of it is about the secret, not the nonce */
  private credWithChalNonce = false;
  /** re-sends after a refused Cred: one more per other secret the device may hold, so each gets its try */
  private serverResends = SERVER_AUTH_RESENDS;
  /** DevDetail/LrgObj as the device reported it (this session, or an earlier one) */
  private peerLrgObj: boolean | undefined;
  /** false while our package spans messages (a large object): the device's 1222 then asks for our next one */
  private ourPackageDone = true;
  /** commands in the last message that carried any: what a device that drops the session could not take */
  private lastMessageOps = 0;

  /**
   * An ended session the device may still answer: it challenged our last Cred (a new nonce), and
   * gets one more. Not once it refused our credentials past the resend limit: a device holding
   * another secret would otherwise answer every reply with a 401 and we every 401 with a reply.
   */
  get lingers(): boolean {
    return this.ended && this.outcome === 'done' && this.serverRefusals <= this.serverResends;
  }

  private readonly deps: ServerDeps;
  private readonly options: ServerOptions & { readonly newNonce: () => Uint8Array };

  constructor(
    deps: ServerDeps,
    options: ServerOptions & { readonly newNonce: () => Uint8Array },
    init: { key: string; account: DeviceAccount; sessionId: string; encoding: Encoding },
  ) {
    this.deps = deps;
    this.options = options;
    this.key = init.key;
    this.account = init.account;
    this.serverResends = SERVER_AUTH_RESENDS + (init.account.serverAuthOthers?.length ?? 0);
    this.deviceId = init.account.deviceId;
    this.sessionId = init.sessionId;
    this.encoding = init.encoding;
    this.lastActivity = deps.clock.now();
    this.peerLrgObj = init.account.profile?.deviceLrgObj;
  }

  private get profile(): NonNullable<DeviceAccount['profile']> {
    return this.account.profile ?? {};
  }

  /** the device's MaxMsgSize, under the profile's cap */
  private get maxMsg(): number {
    return Math.min(this.peerMaxMsg, this.profile.maxMsgSize ?? Infinity);
  }

  private get commandsPerMessage(): number {
    return Math.max(1, Math.min(this.profile.commandsPerMessage ?? Infinity, this.profile.effectiveCommandsPerMessage ?? Infinity));
  }

  /** what the session's end taught about the device (the session that replaces it starts with it) */
  learned: LearnedProfile | undefined;

  /** a failed authentication inside the session, for the engine to count once the message is answered */
  failure: AuthFailure | undefined;
  /** what the lenient handling of the last message let pass, for the engine to tell (and clear) */
  readonly warnings: { code: string; message: string }[] = [];

  /** `decided`: the engine already authenticated this message (the one that started the session) */
  async handle(msg: Message, wire: WireMessage & { readonly remoteAddress?: string }, decided?: AuthDecision): Promise<WireMessage> {
    if (wire.remoteAddress) this.remoteAddress = wire.remoteAddress;
    this.lastActivity = this.deps.clock.now();
    this.messages++;
    this.verProto = msg.hdr.verProto;
    if (msg.hdr.meta?.maxMsgSize !== undefined) this.peerMaxMsg = msg.hdr.meta.maxMsgSize;
    if (msg.hdr.meta?.maxObjSize !== undefined) this.peerMaxObj = msg.hdr.meta.maxObjSize;
    const msgRef = msg.hdr.msgId;

    const auth = decided ?? authenticateDevice(this.account, msg, wire, this.authenticated, this.options.newNonce);
    if (auth.issuedNonce) {
      this.account = { ...this.account, clientNonce: auth.issuedNonce };
      await this.deps.saveNonces(this.deviceId, { clientNonce: auth.issuedNonce });
    }
    const hdrStatus: Status = {
      kind: 'Status',
      cmdId: 0,
      msgRef,
      cmdRef: 0,
      cmd: 'SyncHdr',
      targetRefs: [msg.hdr.target.locUri],
      sourceRefs: [msg.hdr.source.locUri],
      code: auth.code,
      items: [],
      ...(auth.chal ? { chal: auth.chal } : {}),
    };
    if (!auth.ok) {
      this.authFailures++;
      if (auth.code === StatusCode.Unauthorized) {
        this.failure = {
          deviceId: this.deviceId,
          address: this.remoteAddress,
          scheme: this.account.clientAuth.scheme,
          reason: 'credentials',
        };
      }
      // a failed message gets only Status, one per command, all with the header's code
      const statuses = msg.body.commands
        .filter((c) => c.kind !== 'Status' && c.kind !== 'Results')
        .map((c) => statusFor(msgRef, c, auth.code));
      const maxAttempts = this.options.maxAuthAttempts ?? LIMITS.maxAuthAttempts;
      if (this.authFailures >= maxAttempts) await this.end('auth-failed');
      return this.reply([hdrStatus, ...statuses], [], true, 'none');
    }
    this.authenticated = true;

    const statuses: Status[] = [hdrStatus];
    const extra: Command[] = [];
    // 401/407 on our SyncHdr: the device ran none of that message's commands (digest §5.4)
    const verdict = msg.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef === 0);
    const refusedRef =
      verdict && (verdict.code === StatusCode.Unauthorized || verdict.code === StatusCode.MissingCredentials) ? verdict.msgRef : undefined;
    for (const cmd of msg.body.commands) {
      if (refusedRef !== undefined && cmd.kind === 'Status' && cmd.cmdRef !== 0 && cmd.msgRef === refusedRef) continue;
      // a Generic Alert may report on an Exec whose Status came earlier in this message: file it first
      if (cmd.kind === 'Alert') await this.completeAnswered('Exec');
      const answer = await this.consume(cmd, msgRef);
      if (answer) statuses.push(answer);
    }
    if (refusedRef !== undefined) await this.serverRefused(refusedRef, verdict!.code);
    await this.completeAnswered(undefined, msg.body.final);
    if (this.ended) return this.reply(statuses, [], true, 'none');

    // our own package is a large object still going out: the device's (non-final) answers keep it going
    const chunk = this.chunking;
    if (chunk !== undefined && chunk.chunkOffset !== undefined) return this.reply(statuses, [], true, chunk);
    if (!msg.body.final && this.ourPackageDone) {
      // the device's package goes on: the "next message" response, no Final, no new commands
      extra.push({ kind: 'Alert', cmdId: 0, data: AlertCode.NextMessage, items: [] });
      return this.reply(statuses, extra, false, 'none');
    }
    if (this.inFlight.size > 0 || this.answered.size > 0) {
      // a complete device package that left commands unanswered: they cannot be answered any more
      for (const f of this.answered.values()) await this.complete(f);
      this.answered.clear();
      const unanswered = [...this.inFlight.values()].map((f) => f.op);
      this.inFlight.clear();
      await this.release(unanswered.filter(resendable));
      await this.doubt(
        unanswered.filter((op) => !resendable(op)),
        'the device ended its package without answering it',
      );
    }
    return this.nextPackage(statuses);
  }

  /**
   * The device refused our credentials: what it was sent goes again in the next message (new
   * CmdIDs, the Cred for the nonce its Chal gave), a few times; then the session ends and the
   * operations wait in the queue, with the reason, for a session where the credentials are right.
   */
  private async serverRefused(msgRef: number, code: number): Promise<void> {
    const prefix = `${msgRef}:`;
    const again: Operation[] = [];
    for (const [key, flight] of this.inFlight) {
      if (!key.startsWith(prefix)) continue;
      this.inFlight.delete(key);
      if (flight === this.chunking) this.chunking = undefined;
      flight.chunkOffset = undefined;
      again.push(flight.op);
    }
    this.serverRefusals++;
    const [other, ...rest] = this.account.serverAuthOthers ?? [];
    // a Cred made with a stored nonce may be refused for the nonce alone: the same secret goes again
    // with the Chal's; refused with that, the device may hold another secret (a rotation cut short,
    // a reset): the next try uses the next one
    if (other && this.account.serverAuth && this.credWithChalNonce) {
      this.account = { ...this.account, serverAuth: other, serverAuthOthers: [...rest, this.account.serverAuth] };
    }
    const gaveUp = this.serverRefusals > this.serverResends;
    await this.deps.onServerAuthRefused?.(this.deviceId, code, gaveUp);
    this.backlog = [...again, ...this.backlog];
    if (!gaveUp) return;
    const note = serverRefusedNote(code, this.serverRefusals);
    const ops = [...[...this.inFlight.values()].map((f) => f.op), ...this.backlog];
    this.inFlight.clear();
    this.backlog = [];
    if (ops.length > 0)
      await this.deps.releaseOperations(
        this.deviceId,
        ops.map((o) => o.id),
        note,
      );
    await this.end('server-auth-failed');
  }

  /** Folds one device command into our state; the Status to send back, if any. */
  private async consume(cmd: Command, msgRef: number): Promise<Status | undefined> {
    switch (cmd.kind) {
      case 'Status':
        await this.onStatus(cmd);
        return undefined;
      case 'Results':
        return await this.onResults(cmd, msgRef);
      case 'Alert':
        return statusFor(msgRef, cmd, await this.onAlert(cmd));
      case 'Replace': {
        // DevInfo (and any other values the device reports about itself) in Pkg1
        const values: Record<string, string> = {};
        for (const item of cmd.items) {
          const uri = item.source?.locUri ?? item.target?.locUri;
          if (uri !== undefined && typeof item.data === 'string') values[uri.replace(/^\.\//, '')] = item.data;
          else if (uri !== undefined && item.data instanceof Uint8Array)
            values[uri.replace(/^\.\//, '')] = Buffer.from(item.data).toString('utf8');
        }
        const lrgObj = values['DevDetail/LrgObj'];
        if (lrgObj !== undefined) await this.learnLrgObj(lrgObj);
        await this.deps.onDevInfo?.(this.deviceId, values, this.remoteAddress);
        return statusFor(msgRef, cmd, StatusCode.Ok);
      }
      default:
        // a client sends only Alert, Replace, Results and Status to a server
        return statusFor(msgRef, cmd, StatusCode.OptionalFeatureNotSupported);
    }
  }

  private async onAlert(alert: Alert): Promise<number> {
    switch (alert.data) {
      case AlertCode.ServerInitiatedMgmt:
      case AlertCode.ClientInitiatedMgmt:
      case AlertCode.NextMessage:
        return StatusCode.Ok;
      case AlertCode.SessionAbort:
        await this.end('aborted', 'device');
        return StatusCode.Ok;
      case AlertCode.NoEndOfData:
        this.incoming = undefined;
        return StatusCode.Ok;
      case AlertCode.GenericAlert:
      case AlertCode.ClientEvent: {
        const items = alert.items.map((i) => ({
          ...(i.source ? { source: i.source.locUri } : {}),
          ...(i.target ? { target: i.target.locUri } : {}),
          ...(i.meta?.type ? { type: i.meta.type } : {}),
          ...(i.meta?.format ? { format: i.meta.format } : {}),
          ...(i.meta?.mark ? { mark: i.meta.mark } : {}),
          ...(i.data !== undefined ? { data: i.data } : {}),
        }));
        await this.deps.onAlert?.(this.deviceId, {
          code: alert.data,
          ...(alert.correlator ? { correlator: alert.correlator } : {}),
          items,
        });
        return StatusCode.Ok;
      }
      default:
        // UI alerts go server→client only; unknown codes are not supported
        return StatusCode.OptionalFeatureNotSupported;
    }
  }

  private async onStatus(status: Status): Promise<void> {
    if (status.cmdRef === 0) {
      // the device's verdict on our credentials; its Chal carries the nonce for our next Cred
      const next = status.chal?.meta.nextNonce;
      if (next !== undefined) {
        const serverNonce = new Uint8Array(Buffer.from(next, 'base64'));
        this.account = { ...this.account, serverNonce };
        this.nonceFromChal = true;
        await this.deps.saveNonces(this.deviceId, { serverNonce });
      }
      if (status.code === StatusCode.AuthAccepted) {
        this.serverAccepted = true;
        // the device might have held another: which secret it holds is now known
        const used = this.account.serverAuth;
        if (this.account.serverAuthOthers?.length && used) await this.deps.onServerAuthAccepted?.(this.deviceId, used.password);
      }
      return;
    }
    const key = status.cmdRef === undefined ? this.matchWithoutCmdRef(status) : `${status.msgRef}:${status.cmdRef}`;
    const flight = key === undefined ? undefined : this.inFlight.get(key);
    if (key === undefined || flight === undefined) return;
    this.inFlight.delete(key);
    if (flight.chunkOffset !== undefined && status.code === StatusCode.ChunkAccepted) return; // next chunk goes out
    flight.status = status.code;
    if (flight.chunkOffset !== undefined) {
      // anything but 213 to a chunk that was not the last: the rest is not sent (digest §3.6)
      this.chunking = undefined;
      flight.chunkOffset = undefined;
      const ok = status.code >= 200 && status.code < 300;
      if (ok) flight.status = StatusCode.OptionalFeatureNotSupported;
      flight.note = ok ? Notes.chunkAnswered(status.code) : Notes.chunkRefused(status.code);
    }
    this.answered.set(key, flight);
  }

  /**
   * The command a Status without CmdRef answers (docs/interop.md): the first one sent in that
   * message with the same Cmd and, when the Status names one, the same target.
   */
  private matchWithoutCmdRef(status: Status): string | undefined {
    const target = status.targetRefs[0];
    for (const [key, f] of this.inFlight) {
      if (!key.startsWith(`${status.msgRef}:`) || f.op.kind !== status.cmd) continue;
      if (target === undefined || target === f.op.target) return key;
    }
    this.warnings.push({
      code: 'DM_STATUS_UNMATCHED',
      message: `Status ${status.code} for ${status.cmd} ${target ?? ''} has no CmdRef and matches no command of message ${status.msgRef}: ignored`,
    });
    return undefined;
  }

  /**
   * Files the commands answered so far. While the device's package goes on (no Final), a Get stays
   * open: a client that runs out of room sends its Results (or the rest of their items) in the
   * next message of the package, with the same CmdRef.
   */
  private async completeAnswered(kind?: Operation['kind'], packageDone = true): Promise<void> {
    for (const [key, flight] of this.answered) {
      if (kind !== undefined && flight.op.kind !== kind) continue;
      if (!packageDone && flight.op.kind === 'Get') continue;
      if (this.incoming?.flight === flight) continue; // its Results are still arriving in chunks
      this.answered.delete(key);
      await this.complete(flight);
    }
  }

  private async complete(flight: InFlight): Promise<void> {
    const outcome = {
      status: flight.status ?? StatusCode.CommandFailed,
      ...(flight.results.length > 0 ? { results: flight.results } : {}),
      ...(flight.note ? { note: flight.note } : {}),
    };
    await this.deps.completeOperation(this.deviceId, flight.op.id, outcome);
    this.completed++;
  }

  /** DevDetail/LrgObj, read from the device: whether it takes large objects at all */
  private async learnLrgObj(value: string): Promise<void> {
    const v = value.trim().toLowerCase();
    if (v !== 'true' && v !== 'false') return;
    const lrgObj = v === 'true';
    if (lrgObj === this.peerLrgObj) return;
    this.peerLrgObj = lrgObj;
    await this.deps.saveProfile?.(this.deviceId, { deviceLrgObj: lrgObj });
  }

  private async onResults(results: Results, msgRef: number): Promise<Status | undefined> {
    for (const item of results.items) {
      const uri = item.source?.locUri ?? results.targetRef ?? '';
      if (/^(\.\/)?DevDetail\/LrgObj$/.test(uri) && item.data !== undefined && !item.moreData) {
        await this.learnLrgObj(typeof item.data === 'string' ? item.data : Buffer.from(item.data).toString('utf8'));
      }
    }
    const key = `${results.msgRef ?? this.msgId}:${results.cmdRef}`;
    const flight = this.inFlight.get(key) ?? this.answered.get(key) ?? this.incoming?.flight;
    for (const item of results.items) {
      const uri = item.source?.locUri ?? results.targetRef ?? '';
      const format = effectiveFormat(item, results.meta);
      const type = item.meta?.type ?? results.meta?.type;
      if (item.moreData || this.incoming !== undefined) {
        this.incoming ??= { uri, format, ...(type ? { type } : {}), parts: [], flight };
        if (item.data !== undefined) this.incoming.parts.push(item.data);
        if (item.moreData) return statusFor(msgRef, results, StatusCode.ChunkAccepted);
        const whole = joinParts(this.incoming.parts);
        flight?.results.push({ uri: this.incoming.uri, format, ...(type ? { type } : {}), data: whole });
        this.incoming = undefined;
        continue;
      }
      flight?.results.push({ uri, format, ...(type ? { type } : {}), ...(item.data !== undefined ? { data: item.data } : {}) });
    }
    return undefined;
  }

  private async nextPackage(statuses: Status[]): Promise<WireMessage> {
    if (this.backlog.length === 0) {
      const limit = this.options.maxOpsPerPackage ?? LIMITS.maxOpsPerPackage;
      this.backlog = [...(await this.deps.takeOperations(this.deviceId, limit))];
    }
    if (this.backlog.length === 0) {
      // nothing to send and nothing asked: the device will not answer, the session is over
      await this.end('done');
      return this.reply(statuses, [], true, 'none');
    }
    return this.reply(statuses, [], true, 'ops');
  }

  /**
   * Assembles a message: statuses first, then as many backlog operations as fit the device's
   * MaxMsgSize (a single oversized value goes as a large object).
   */
  private reply(statuses: Status[], commands: Command[], final: boolean, send: 'none' | 'ops' | InFlight): WireMessage {
    const continuing = typeof send === 'object' ? send : undefined;
    this.msgId++;
    const msgId = this.msgId;
    let cmdId = 1;
    const fixed: Command[] = [...statuses, ...commands].map((c) => ({ ...c, cmdId: cmdId++ }));
    const ops: { command: Command; flight: InFlight }[] = [];
    const build = (extra: readonly Command[], fin: boolean): Message =>
      this.message(msgId, [...fixed, ...ops.map((o) => o.command), ...extra], fin);
    // the last message measured, kept: it is usually the one sent, and need not be encoded twice
    let measured: { msg: Message; bytes: Uint8Array } | undefined;
    const fits = (m: Message): boolean => {
      measured = { msg: m, bytes: encodeMessage(m, this.encoding) };
      return measured.bytes.length <= this.maxMsg;
    };

    let room = !this.ended && send === 'ops';
    if (continuing !== undefined) {
      const chunk = this.nextChunk(continuing, cmdId, (c) => fits(build([c], false)), this.profile.explicitFormat !== false);
      ops.push({ command: chunk.command, flight: continuing });
      cmdId++;
      room = false;
      final = !chunk.more;
      if (chunk.more) continuing.chunkOffset = chunk.next;
      else {
        continuing.chunkOffset = undefined;
        this.chunking = undefined;
      }
    }
    const explicitFormat = this.profile.explicitFormat !== false;
    while (room && this.backlog.length > 0 && ops.length < this.commandsPerMessage) {
      const op = this.backlog[0]!;
      const flight: InFlight = { op, results: [] };
      const whole = commandFor(op, cmdId, undefined, explicitFormat);
      let fitsWhole: boolean;
      try {
        fitsWhole = fits(build([whole], true));
      } catch (err) {
        if (!(err instanceof MessageError && err.code === MessageErrorCode.NotRepresentable)) throw err;
        // one value this session's encoding cannot carry (binary in XML) must not end every session of the device
        this.backlog.shift();
        void this.deps.completeOperation(this.deviceId, op.id, {
          status: StatusCode.UnsupportedMediaType,
          note: Notes.notRepresentable(this.encoding, err.message),
        });
        this.completed++;
        continue;
      }
      if (fitsWhole) {
        ops.push({ command: whole, flight });
        this.backlog.shift();
        cmdId++;
        continue;
      }
      if (ops.length > 0 || op.data === undefined || (op.kind !== 'Add' && op.kind !== 'Replace')) break;
      this.backlog.shift();
      const size = announcedSize(op.data, op.format);
      if (this.peerMaxObj !== undefined && size > this.peerMaxObj) {
        // the device said it cannot take an object this large
        void this.deps.completeOperation(this.deviceId, op.id, {
          status: StatusCode.RequestEntityTooLarge,
          note: Notes.overMaxObj(size, this.peerMaxObj),
        });
        continue;
      }
      const refusal = this.profile.largeObjects === false ? 'profile' : this.peerLrgObj === false ? 'device' : undefined;
      if (refusal !== undefined) {
        // half a value is worse than none: fail before sending any of it
        void this.deps.completeOperation(this.deviceId, op.id, {
          status: StatusCode.OptionalFeatureNotSupported,
          note: Notes.noLargeObjects(size, this.maxMsg, refusal),
        });
        this.completed++;
        continue;
      }
      const chunk = this.nextChunk(flight, cmdId, (c) => fits(build([c], false)), explicitFormat);
      ops.push({ command: chunk.command, flight });
      cmdId++;
      if (chunk.more) {
        flight.chunkOffset = chunk.next;
        this.chunking = flight;
        final = false;
      }
      break;
    }
    for (const { command, flight } of ops) this.inFlight.set(`${msgId}:${command.cmdId}`, flight);
    // a "next message" answer (1222, no Final) belongs to the device's package, not ours
    if (send !== 'none' || final) this.ourPackageDone = final;
    if (ops.length > 0) this.lastMessageOps = ops.length;
    const msg = build([], final);
    const same =
      measured !== undefined &&
      measured.msg.body.final === final &&
      measured.msg.body.commands.length === msg.body.commands.length &&
      measured.msg.body.commands.every((c, i) => c === msg.body.commands[i]);
    const body = same ? measured!.bytes : encodeMessage(msg, this.encoding);
    const hmac = this.authenticated ? serverHmac(this.account, body) : undefined;
    if (hmac) this.credWithChalNonce = this.nonceFromChal;
    return { body, encoding: this.encoding, ...(hmac ? { hmac } : {}) };
  }

  private nextChunk(
    flight: InFlight,
    cmdId: number,
    fits: (c: Command) => boolean,
    explicitFormat: boolean,
  ): { command: Command; more: boolean; next: number } {
    const op = flight.op;
    const data = op.data!;
    const offset = flight.chunkOffset ?? 0;
    const first = offset === 0;
    let units = Math.max(1, Math.min(data.length - offset, this.maxMsg));
    for (;;) {
      const { part, next } = sliceData(data, op.format, offset, units);
      const more = next < data.length;
      const command = commandFor(
        op,
        cmdId,
        { data: part, moreData: more, ...(first ? { size: announcedSize(data, op.format) } : {}) },
        explicitFormat,
      );
      if (fits(command) || units <= 1) return { command, more, next };
      units = Math.max(1, Math.floor(units * 0.8));
    }
  }

  private message(msgId: number, commands: Command[], final: boolean): Message {
    // our Cred only to a device that proved itself: to anyone else it is a digest to guess our password from
    const cred = this.serverAccepted || !this.authenticated ? undefined : serverCred(this.account);
    if (cred) this.credWithChalNonce = this.nonceFromChal;
    const sep = this.options.url.includes('?') ? '&' : '?';
    return {
      hdr: {
        verDtd: '1.2',
        verProto: this.verProto,
        sessionId: this.sessionId,
        msgId,
        target: { locUri: this.deviceId },
        source: { locUri: this.options.url },
        respUri: `${this.options.url}${sep}s=${this.key}`,
        ...(cred ? { cred } : {}),
        meta: {
          maxMsgSize: this.options.maxMsgSize ?? 64 * 1024,
          ...(this.options.maxObjSize ? { maxObjSize: this.options.maxObjSize } : {}),
        },
      },
      body: { commands, final },
    };
  }

  private async release(ops: Operation[]): Promise<void> {
    if (ops.length > 0)
      await this.deps.releaseOperations(
        this.deviceId,
        ops.map((o) => o.id),
      );
  }

  /** Sent commands whose Status never came and that must not run twice: in doubt, with why. */
  private async doubt(ops: readonly Operation[], why: string): Promise<void> {
    const at = this.deps.clock.now();
    for (const op of ops) {
      const note = Notes.inDoubt(op.kind, this.sessionId, at, why);
      if (this.deps.doubtOperation) await this.deps.doubtOperation(this.deviceId, op.id, note);
      else await this.deps.completeOperation(this.deviceId, op.id, { status: StatusCode.RequestTimeout, note });
    }
  }

  /**
   * Ends the session; operations not sent go back to the queue. Sent ones the device never answered
   * (an abort, silence, a new session, a server shutdown): Get, Replace and Delete are queued again at
   * once, an Add, Exec or Copy that may have run is in doubt (never sent twice silently). `dropped`
   * (the device left them unanswered): the next sessions send fewer commands per message.
   */
  async end(outcome: SessionSummary['outcome'], cause: 'device' | 'server' = 'device'): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.outcome = outcome;
    for (const f of this.answered.values()) await this.complete(f);
    this.answered.clear();
    const unanswered = [...this.inFlight.values()].map((f) => f.op);
    this.inFlight.clear();
    const dropped = cause === 'device' && unanswered.length > 0;
    const again = unanswered.filter(resendable);
    const unknown = unanswered.filter((op) => !resendable(op));
    if (again.length > 0)
      await this.deps.releaseOperations(
        this.deviceId,
        again.map((o) => o.id),
        dropped ? Notes.dropped : undefined,
      );
    await this.release(this.backlog);
    this.backlog = [];
    await this.doubt(unknown, cause === 'server' ? 'the server stopped first' : `session ${outcome}`);
    const commandsPerMessage = lowered(this.commandsPerMessage, this.lastMessageOps);
    if (dropped) {
      this.learned = { effectiveCommandsPerMessage: commandsPerMessage };
      await this.deps.saveProfile?.(this.deviceId, this.learned);
    }
    await this.deps.onSessionEnd?.(this.deviceId, {
      sessionId: this.sessionId,
      messages: this.messages,
      completed: this.completed,
      outcome,
      ...(dropped ? { requeued: again.length, inDoubt: unknown.length, commandsPerMessage } : {}),
    });
  }
}

function joinParts(parts: readonly ItemData[]): ItemData {
  if (parts.every((p) => typeof p === 'string')) return parts.join('');
  return new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))));
}
