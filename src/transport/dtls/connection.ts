// One DTLS association with one peer: record protection per epoch, the replay window, handshake
// message sequencing and reassembly, flight retransmission (RFC 6347 §4.2.4), application data.
// The server and the client subclass it with their side of the handshake.
import { EventEmitter } from 'node:events';

import type { RecordCipher, SuiteId } from './cipher.ts';
import { type Fragment, fragments, message, parseFragments, Reassembly } from './handshake.ts';
import { ContentType, DTLS12, type DtlsRecord, parseRecords, RECORD_HEADER, ReplayWindow, recordHeader } from './record.ts';
import { DtlsDecodeError } from './wire.ts';

export const Alert = {
  CloseNotify: 0,
  UnexpectedMessage: 10,
  BadRecordMac: 20,
  HandshakeFailure: 40,
  IllegalParameter: 47,
  DecodeError: 50,
  DecryptError: 51,
  InternalError: 80,
} as const;

/** what the handshake code may send in a flight */
interface FlightRecord {
  readonly type: number;
  readonly data: Buffer;
  readonly epoch: number;
}

export interface Peer {
  readonly address: string;
  readonly port: number;
}

/** a resumable session (RFC 5246 §7.3 abbreviated handshake) */
export interface DtlsSession {
  readonly id: Buffer;
  readonly master: Buffer;
  readonly suite: SuiteId;
  readonly extendedMaster: boolean;
}

const FIRST_TIMEOUT_MS = 1000; // RFC 6347 §4.2.4.1
const MAX_TIMEOUT_MS = 60_000;
const MAX_BACKLOG = 32;
/** records and fragments are cut to fit one datagram on any path (RFC 6347 §4.1.1.1, PMTU unknown) */
const MAX_DATAGRAM = 1200;

/**
 * Events: 'connect' once the handshake is done; 'message' (payload) per application record;
 * 'close' (reason) once, for an alert, close(), an idle or handshake timeout, or a failed handshake.
 */
export abstract class DtlsConnection extends EventEmitter {
  readonly remote: Peer;
  /** authenticated PSK identity, set once the handshake is done */
  identity: Buffer | undefined;
  suite: SuiteId | undefined;
  session: DtlsSession | undefined;
  established = false;
  closed = false;
  /** whether the last handshake was abbreviated (a resumed session) */
  resumed = false;
  lastHeard = 0;
  readonly createdAt = Date.now();
  private readonly rawSend: (datagram: Buffer) => void;
  private readonly writeSeq = [0, 0];
  private readonly writeCipher: (RecordCipher | undefined)[] = [undefined, undefined];
  private readonly readCipher: (RecordCipher | undefined)[] = [undefined, undefined];
  private readonly windows = [new ReplayWindow(), new ReplayWindow()];
  private readEpoch = 0;
  private writeEpoch = 0;
  /** the next epoch's read cipher, active from the peer's ChangeCipherSpec */
  protected pendingRead: RecordCipher | undefined;
  protected sendSeq = 0;
  protected recvSeq = 0;
  private assembling: Map<number, Reassembly> = new Map();
  private flight: FlightRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timeoutMs = FIRST_TIMEOUT_MS;
  /** records waiting while the handshake awaits something (a PSK lookup) */
  private backlog: DtlsRecord[] = [];
  protected busy = false;
  /** the handshake messages so far, for Finished (RFC 5246 §7.4.9, RFC 6347 §4.2.6) */
  protected transcript: Buffer[] = [];
  /** counters of what was refused, for the owner's statistics */
  readonly dropped = { replayed: 0, unauthenticated: 0, unexpected: 0 };
  /** exceptions that were not a refusal of malformed input (bugs) */
  internalErrors = 0;

  constructor(remote: Peer, send: (datagram: Buffer) => void) {
    super();
    this.remote = remote;
    this.rawSend = send;
  }

  /** the role's handling of the next in-order complete handshake message */
  protected abstract onHandshake(type: number, body: Buffer, raw: Buffer): void;
  /** the peer's final Finished failed or the handshake cannot go on */
  protected abstract onFlightTimeout(): void;

  /** Sends application data (one record; CoAP messages fit one datagram). */
  send(payload: Buffer | Uint8Array): void {
    if (!this.established || this.closed) throw new Error('DTLS connection is not open');
    this.writeRecords([
      {
        type: ContentType.ApplicationData,
        data: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
        epoch: this.writeEpoch,
      },
    ]);
  }

  /** Sends close_notify and forgets the association. */
  close(): void {
    if (this.closed) return;
    if (this.established) this.alert(Alert.CloseNotify, false);
    this.end('closed');
  }

  end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    this.backlog = [];
    this.assembling.clear();
    this.emit('close', reason);
  }

  /** Everything that arrives from the peer; never throws. */
  receive(datagram: Buffer): void {
    if (this.closed) return;
    let records: DtlsRecord[];
    try {
      records = parseRecords(datagram);
    } catch {
      // §4.1.2.7: a malformed record is discarded; the association stays
      this.dropped.unexpected++;
      return;
    }
    if (this.backlog.length + records.length > MAX_BACKLOG) return void this.dropped.unexpected++;
    this.backlog.push(...records);
    this.drain();
  }

  protected drain(): void {
    while (!this.busy && !this.closed && this.backlog.length > 0) {
      const rec = this.backlog.shift()!;
      try {
        this.record(rec);
      } catch (err) {
        if (!(err instanceof DtlsDecodeError)) this.internalErrors++;
        const e = err instanceof DtlsDecodeError ? err : new DtlsDecodeError(String((err as Error)?.message ?? err), Alert.InternalError);
        this.fail(e.alert, e.message);
      }
    }
  }

  private record(rec: DtlsRecord): void {
    // a record of an epoch we cannot read yet is dropped: the peer retransmits (§4.1: may be buffered)
    if (rec.epoch > this.readEpoch || rec.epoch > 1) return void this.dropped.unexpected++;
    const window = this.windows[rec.epoch]!;
    if (!window.check(rec.seq)) return void this.dropped.replayed++;
    const cipher = this.readCipher[rec.epoch];
    const plain = cipher ? cipher.open(rec.type, rec.version, rec.epoch, rec.seq, rec.fragment) : rec.fragment;
    if (!plain) {
      // during the handshake a Finished that does not authenticate means the keys differ (a wrong PSK,
      // or the old one of a rotation: the next candidate key gets its try; the window has not moved)
      if (!this.established && rec.type === ContentType.Handshake && rec.epoch === 1 && this.otherKeys()) return this.record(rec);
      this.dropped.unauthenticated++;
      if (!this.established && rec.type === ContentType.Handshake)
        this.fail(Alert.BadRecordMac, "the peer's Finished did not authenticate (wrong key?)");
      return;
    }
    window.accept(rec.seq);
    this.lastHeard = Date.now();
    switch (rec.type) {
      case ContentType.Handshake:
        return this.handshakeRecord(plain, rec.epoch);
      case ContentType.ChangeCipherSpec:
        if (plain.length !== 1 || plain[0] !== 1) throw new DtlsDecodeError('ChangeCipherSpec is one byte, 1');
        if (rec.epoch !== 0 || this.readEpoch !== 0 || !this.pendingRead) return void this.dropped.unexpected++;
        this.readCipher[1] = this.pendingRead;
        this.readEpoch = 1;
        return;
      case ContentType.Alert:
        if (plain.length !== 2) throw new DtlsDecodeError('an alert is two bytes');
        // a warning other than close_notify changes nothing; anything fatal or close_notify ends it
        if (plain[0] === 1 && plain[1] !== Alert.CloseNotify) return;
        // an unauthenticated (epoch 0) alert cannot end an established association
        if (this.established && rec.epoch === 0) return void this.dropped.unexpected++;
        return this.end(plain[1] === Alert.CloseNotify ? 'close_notify from the peer' : `alert ${plain[1]} from the peer`);
      case ContentType.ApplicationData:
        if (!this.established || rec.epoch === 0) return void this.dropped.unexpected++;
        this.emit('message', plain);
        return;
    }
  }

  private handshakeRecord(data: Buffer, epoch: number): void {
    for (const f of parseFragments(data)) {
      if (f.seq < this.recvSeq) {
        // §4.2.4: the peer repeats a flight, so ours was lost; resend it (its last message triggers it once)
        if (f.offset + f.body.length === f.length) this.retransmit();
        continue;
      }
      if (f.seq > this.recvSeq + 4) continue; // too far ahead: its earlier flights will come again
      if (this.established && epoch === 0) continue;
      this.fragment(f);
    }
  }

  private fragment(f: Fragment): void {
    let r = this.assembling.get(f.seq);
    if (!r) this.assembling.set(f.seq, (r = new Reassembly(f.type, f.length)));
    r.add(f);
    this.deliver();
  }

  /** Hands complete messages to the role, in order: the next one may have been waiting complete already. */
  private deliver(): void {
    for (;;) {
      const next = this.assembling.get(this.recvSeq);
      if (!next || !next.complete() || this.busy || this.closed) return;
      this.assembling.delete(this.recvSeq);
      const raw = message(next.type, this.recvSeq, next.body);
      this.recvSeq++;
      this.stopTimer(); // the peer's next flight began: ours arrived
      this.onHandshake(next.type, next.body, raw);
    }
  }

  /** Resumes after an asynchronous step of the handshake. */
  protected resume(): void {
    this.busy = false;
    this.deliver();
    this.drain();
  }

  /** Sends a flight; `timer`: whether it is retransmitted until the peer answers (not for the last flight). */
  protected sendFlight(items: readonly ({ handshake: number; body: Buffer | (() => Buffer) } | { ccs: true })[], timer: boolean): void {
    const flight: FlightRecord[] = [];
    for (const item of items) {
      if ('ccs' in item) {
        flight.push({ type: ContentType.ChangeCipherSpec, data: Buffer.of(1), epoch: this.writeEpoch });
        this.writeEpoch = 1;
        continue;
      }
      const seq = this.sendSeq++;
      // a Finished is computed over the transcript up to it, so after the messages before it
      const body = typeof item.body === 'function' ? item.body() : item.body;
      this.transcript.push(message(item.handshake, seq, body));
      for (const data of fragments(item.handshake, seq, body, MAX_DATAGRAM - RECORD_HEADER - 12 - 32))
        flight.push({ type: ContentType.Handshake, data, epoch: this.writeEpoch });
    }
    this.flight = flight;
    this.writeRecords(flight);
    this.stopTimer();
    this.timeoutMs = FIRST_TIMEOUT_MS;
    if (timer) this.startTimer();
  }

  /** Stateless messages (HelloVerifyRequest) keep the peer's record sequence number (§4.2.1). */
  protected setWriteSeq(epoch: number, seq: number): void {
    this.writeSeq[epoch] = seq;
  }

  protected setKeys(write: RecordCipher, read: RecordCipher): void {
    this.writeCipher[1] = write;
    this.pendingRead = read;
    // keys derived again after the peer's ChangeCipherSpec (otherKeys): they read epoch 1 at once
    if (this.readEpoch === 1 && !this.established) this.readCipher[1] = read;
  }

  /** Keys from another candidate secret after a Finished did not open; false: none left. */
  protected otherKeys(): boolean {
    return false;
  }

  private startTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      if (this.timeoutMs >= MAX_TIMEOUT_MS) return this.onFlightTimeout();
      this.timeoutMs = Math.min(this.timeoutMs * 2, MAX_TIMEOUT_MS);
      this.writeRecords(this.flight);
      this.startTimer();
    }, this.timeoutMs);
    this.timer.unref();
  }

  protected stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private lastRetransmit = 0;

  private retransmit(): void {
    // at most one resend per 100 ms: repeated old records cannot turn us into an amplifier
    const now = Date.now();
    if (this.flight.length === 0 || now - this.lastRetransmit < 100) return;
    this.lastRetransmit = now;
    this.writeRecords(this.flight);
  }

  /** Packs records into as few datagrams as fit, each record with a fresh sequence number. */
  private writeRecords(records: readonly FlightRecord[]): void {
    let datagram: Buffer[] = [];
    let size = 0;
    for (const r of records) {
      const seq = this.writeSeq[r.epoch]!;
      if (seq >= 2 ** 48 - 1) return this.fail(Alert.InternalError, 'sequence numbers exhausted');
      this.writeSeq[r.epoch] = seq + 1;
      const cipher = this.writeCipher[r.epoch];
      const body = cipher ? cipher.seal(r.type, DTLS12, r.epoch, seq, r.data) : r.data;
      const rec = Buffer.concat([recordHeader(r.type, DTLS12, r.epoch, seq, body.length), body]);
      if (size + rec.length > MAX_DATAGRAM && datagram.length > 0) {
        this.rawSend(Buffer.concat(datagram));
        datagram = [];
        size = 0;
      }
      datagram.push(rec);
      size += rec.length;
    }
    if (datagram.length > 0) this.rawSend(Buffer.concat(datagram));
  }

  protected alert(code: number, fatal = true): void {
    this.writeRecords([{ type: ContentType.Alert, data: Buffer.of(fatal ? 2 : 1, code), epoch: this.writeEpoch }]);
  }

  /** A fatal alert to the peer, then the end. */
  protected fail(code: number, reason: string): void {
    if (this.closed) return;
    this.alert(code);
    this.end(reason);
  }

  protected handshakeDone(): void {
    this.established = true;
    this.lastHeard = Date.now();
    this.emit('connect');
  }
}
