import type { Alert, AuthScheme, ItemData } from '../../protocol/index.ts';
import type { DmTree } from '../../tree/api.ts';
import type { Clock } from '../clock.ts';
import type { Encoding } from '../wire.ts';
import type { ClientQuirks } from './quirks.ts';

export interface ClientAccount {
  /** DMAcc ServerID: the principal the server's commands run as (ACLs) */
  readonly serverId: string;
  readonly serverUrl: string;
  /** CLCRED: how we prove ourselves to the server */
  readonly clientAuth: { readonly scheme: AuthScheme; readonly name: string; readonly password: string };
  /** SRVCRED: what the server must prove itself with; absent = we do not ask */
  readonly serverAuth?: { readonly name: string; readonly password: string };
  /** nonce for our next Cred (the server's last Chal) */
  readonly clientNonce?: Uint8Array;
  /** nonce we expect the server to use (our last Chal) */
  readonly serverNonce?: Uint8Array;
}

/** A Generic Alert (1226) or client event the device reports to the server. */
export interface OutgoingAlert {
  readonly code: number;
  readonly correlator?: string;
  readonly items: readonly {
    readonly source?: string;
    /** where the result lives (SCOMO: the Deployed or Delivered node) */
    readonly target?: string;
    readonly type: string;
    readonly format: string;
    readonly mark?: string;
    readonly data: ItemData;
  }[];
}

/** What a user (or a simulated one) answers to a UI alert: Status code and Items. */
export interface UiAnswer {
  readonly code: number;
  readonly items?: readonly string[];
}

export interface ClientDeps {
  readonly tree: DmTree;
  readonly clock: Clock;
  readonly account: ClientAccount;
  /** DevInfo values sent in every Pkg1 (`DevId`, `Man`, `Mod`, `DmV`, `Lang`, …) */
  readonly devInfo: Readonly<Record<string, string>>;
  readonly encoding: Encoding;
  saveNonces(nonces: { clientNonce?: Uint8Array; serverNonce?: Uint8Array }): Promise<void> | void;
  /** alerts waiting to be sent (taken once: sent in this session's first message) */
  takeAlerts?(): readonly OutgoingAlert[];
  /**
   * alerts raised while a server package ran, sent with its Statuses (some deployed clients put
   * a Generic Alert beside the Exec's Status: docs/interop.md); absent = they wait for a session
   */
  raisedAlerts?(): readonly OutgoingAlert[];
  ui?(alert: Alert): UiAnswer | Promise<UiAnswer>;
  newNonce?(): Uint8Array;
  /** largest message we accept (advertised MaxMsgSize) */
  readonly maxMsgSize?: number;
  /** largest object we accept (MaxObjSize) */
  readonly maxObjSize?: number;
  /** behaviours of deployed clients, for tests and simulations only */
  readonly quirks?: ClientQuirks;
}
