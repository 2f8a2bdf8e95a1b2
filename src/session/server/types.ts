// What the server session engine needs from the role around it: accounts, the operation queue and
// somewhere to report what devices said. Implemented over a store by src/server; in memory by tests.
import type { AuthScheme, ItemData } from '../../protocol/index.ts';
import type { Clock } from '../clock.ts';

export interface Secret {
  readonly name: string;
  readonly password: string;
}

/** The server's record of one device (its DMAcc seen from the server side). */
export interface DeviceAccount {
  /** DevId: the client's SyncHdr Source LocURI */
  readonly deviceId: string;
  /** CLCRED: what the device proves itself with; scheme basic, md5 or HMAC */
  readonly clientAuth: Secret & { readonly scheme: AuthScheme };
  /** SRVCRED: what the server proves itself with to the device (md5), when the device asks for it */
  readonly serverAuth?: Secret;
  /**
   * what the device may hold instead of `serverAuth` (the other side of an open rotation, the secret
   * it was provisioned with): tried in turn when it refuses our Cred, within the resend limit
   */
  readonly serverAuthOthers?: readonly Secret[];
  /** the nonce the device must use next (we sent it in a Chal); bytes */
  readonly clientNonce?: Uint8Array;
  /** the nonce we must use next for our Cred (the device sent it in a Chal); bytes */
  readonly serverNonce?: Uint8Array;
  /** the empty nonce is accepted too: a device enrolling on first contact never got one */
  readonly firstContact?: boolean;
  /** how sessions with this device are shaped (absent: the server's defaults) */
  readonly profile?: SessionProfile;
}

/** Per-device session shaping, for devices that cannot take what the protocol allows. */
export interface SessionProfile {
  /** commands per server message at most */
  readonly commandsPerMessage?: number;
  /** `<Meta><Format>` on every Item with Data, chr included (true unless set false) */
  readonly explicitFormat?: boolean;
  /** values too large for one message may go as large objects (true unless set false) */
  readonly largeObjects?: boolean;
  /** the server's own cap on the device's MaxMsgSize */
  readonly maxMsgSize?: number;
  /** learned: lowered each time the device dropped a session with commands unanswered */
  readonly effectiveCommandsPerMessage?: number;
  /** learned: DevDetail/LrgObj as the device reported it */
  readonly deviceLrgObj?: boolean;
}

/** What a session learns about a device and keeps for the next ones. */
export type LearnedProfile = Pick<SessionProfile, 'effectiveCommandsPerMessage' | 'deviceLrgObj'>;

export type OperationKind = 'Get' | 'Replace' | 'Add' | 'Delete' | 'Exec' | 'Copy';

export interface Operation {
  readonly id: string;
  readonly kind: OperationKind;
  readonly target: string;
  /** Copy: the node copied */
  readonly source?: string;
  readonly data?: ItemData;
  readonly format?: string;
  readonly type?: string;
  /** Exec: echoed by the device's Generic Alert when the work finishes later (202) */
  readonly correlator?: string;
  /** 'always': sent again when no Status came back, even an Add, Exec or Copy */
  readonly retry?: 'always';
}

export interface ResultItem {
  readonly uri: string;
  readonly format?: string;
  readonly type?: string;
  readonly data?: ItemData;
}

export interface OperationOutcome {
  /** the device's Status code */
  readonly status: number;
  readonly results?: readonly ResultItem[];
  /** why it failed, when the status alone does not say */
  readonly note?: string;
}

export interface GenericAlert {
  readonly code: number;
  readonly correlator?: string;
  readonly items: readonly {
    readonly source?: string;
    readonly target?: string;
    readonly type?: string;
    readonly format?: string;
    readonly mark?: string;
    readonly data?: ItemData;
  }[];
}

export interface ServerDeps {
  readonly clock: Clock;
  findAccount(deviceId: string): Promise<DeviceAccount | undefined>;
  saveNonces(deviceId: string, nonces: { clientNonce?: Uint8Array; serverNonce?: Uint8Array }): Promise<void>;
  /** queued operations for the device, oldest first; they count as in flight until completed or released */
  takeOperations(deviceId: string, limit: number): Promise<readonly Operation[]>;
  completeOperation(deviceId: string, id: string, outcome: OperationOutcome): Promise<void>;
  /** back to the queue (the session ended before the device answered); `note` says why */
  releaseOperations(deviceId: string, ids: readonly string[], note?: string): Promise<void>;
  /** sent, no Status came, and it must not run twice: in doubt until someone resolves it (absent: failed 408) */
  doubtOperation?(deviceId: string, id: string, note: string): Promise<void>;
  /** keeps what a session learned about the device (merged into its profile) */
  saveProfile?(deviceId: string, learned: LearnedProfile): Promise<void>;
  /** the device refused the server's credentials (401/407 on our SyncHdr); `gaveUp`: the session ends */
  onServerAuthRefused?(deviceId: string, code: number, gaveUp: boolean): Promise<void> | void;
  /** the device accepted the server's credentials made with this password (told only when the account names other secrets) */
  onServerAuthAccepted?(deviceId: string, password: string): Promise<void> | void;
  /** runs the handling of one message as one unit of work (one store transaction) */
  unitOfWork?<T>(work: () => Promise<T>): Promise<T>;
  /** `from`: the address the message came from (the LAN address of a device behind a gateway) */
  onDevInfo?(deviceId: string, values: Readonly<Record<string, string>>, from?: string): Promise<void> | void;
  onAlert?(deviceId: string, alert: GenericAlert): Promise<void> | void;
  onSessionEnd?(deviceId: string, summary: SessionSummary): Promise<void> | void;
  /** what a lenient reading let pass in an authenticated device's message (docs/interop.md) */
  onWarnings?(deviceId: string, warnings: readonly { readonly code: string; readonly message: string }[]): void;
  /** the device proved itself with this account (what findAccount gave: it may not be stored yet) */
  onAuthenticated?(account: DeviceAccount): Promise<void>;
  /** failed authentications counted across sessions (src/server counts them per device and address) */
  readonly authGuard?: AuthGuard;
}

/** Why a message was refused before the device authenticated. */
export type AuthFailureReason = 'credentials' | 'unknown-device';

export interface AuthFailure {
  readonly deviceId: string;
  readonly address: string | undefined;
  /** the scheme the device was challenged with */
  readonly scheme: AuthScheme;
  readonly reason: AuthFailureReason;
}

export interface AuthGuard {
  /** ms until the device may try again from this address (0: it may now) */
  retryAfter(deviceId: string, address: string | undefined): Promise<number>;
  /** a wrong credential (never a missing one); resolves when the answer may go (a growing delay) */
  failed(failure: AuthFailure): Promise<void>;
  /** the device proved itself from this address: its count there starts over */
  succeeded(deviceId: string, address: string | undefined): Promise<void>;
}

export interface SessionSummary {
  readonly sessionId: string;
  readonly messages: number;
  readonly completed: number;
  /** server-auth-failed: the device kept refusing the server's credentials */
  readonly outcome: 'done' | 'auth-failed' | 'server-auth-failed' | 'aborted' | 'timeout';
  /** commands the device never answered: queued again (Get, Replace, Delete) or in doubt (Add, Exec, Copy) */
  readonly requeued?: number;
  readonly inDoubt?: number;
  /** commands per message for the next sessions, when this one lowered it */
  readonly commandsPerMessage?: number;
}

export interface ServerOptions {
  readonly serverId: string;
  /** absolute URL the device posts to; RespURI adds `?s=<session key>` */
  readonly url: string;
  /** largest message we accept (advertised as MaxMsgSize) */
  readonly maxMsgSize?: number;
  /** largest object we accept (MaxObjSize) */
  readonly maxObjSize?: number;
  /** a session idle this long is dropped and its operations re-queued */
  readonly sessionTimeoutMs?: number;
  /** failed authentications before the session is ended */
  readonly maxAuthAttempts?: number;
  /** operations per package at most (then the rest go in the next package) */
  readonly maxOpsPerPackage?: number;
  readonly newNonce?: () => Uint8Array;
  /** starts every session key: the instance that holds the session (several instances behind one URL) */
  readonly keyPrefix?: string;
}
