// The SyncML DM message model: plain readonly data; `kind` is the wire element's name.
// Element order inside a command is fixed by the DTD (the codecs emit it); the order of commands
// in a body and of items in a command is the array order.

/** Target / Source: `(LocURI, LocName?)`. */
export interface LocRef {
  readonly locUri: string;
  readonly locName?: string;
}

/** MetInf fields DM uses (syncml:metinf). Numbers are decimal on the wire. */
export interface Meta {
  readonly format?: string;
  readonly type?: string;
  readonly mark?: string;
  readonly size?: number;
  readonly version?: string;
  readonly nextNonce?: string; // base64 text, as sent
  readonly maxMsgSize?: number;
  readonly maxObjSize?: number;
  readonly emi?: readonly string[];
}

/** Cred: `(Meta?, Data)`; Meta carries the scheme (Type) and Format (b64). */
export interface Cred {
  readonly meta?: Meta;
  readonly data: string;
}

/** Chal: `(Meta)` with Type, Format and NextNonce. */
export interface Chal {
  readonly meta: Meta;
}

/**
 * Item data is bytes when the item's effective Format (Item Meta, else command Meta) is `bin` or
 * `b64` (b64 text is decoded on read and written back as base64), and text otherwise.
 */
export type ItemData = string | Uint8Array;

export interface Item {
  readonly target?: LocRef;
  readonly source?: LocRef;
  readonly sourceParent?: string;
  readonly targetParent?: string;
  readonly meta?: Meta;
  readonly data?: ItemData;
  readonly moreData?: boolean;
}

interface CommandBase {
  readonly cmdId: number;
  readonly noResp?: boolean;
}

interface ItemCommand extends CommandBase {
  readonly meta?: Meta;
  readonly items: readonly Item[];
}

export interface Add extends ItemCommand {
  readonly kind: 'Add';
}
export interface Replace extends ItemCommand {
  readonly kind: 'Replace';
}
export interface Delete extends ItemCommand {
  readonly kind: 'Delete';
}
export interface Copy extends ItemCommand {
  readonly kind: 'Copy';
}
export interface Get extends ItemCommand {
  readonly kind: 'Get';
  readonly lang?: string;
}

/** Exec carries exactly one Item (DM 1.2). */
export interface Exec extends CommandBase {
  readonly kind: 'Exec';
  readonly meta?: Meta;
  readonly correlator?: string;
  readonly item: Item;
}

export interface Alert extends CommandBase {
  readonly kind: 'Alert';
  readonly data?: number; // the alert code
  readonly correlator?: string;
  readonly items: readonly Item[];
}

export interface Atomic extends CommandBase {
  readonly kind: 'Atomic';
  readonly meta?: Meta;
  readonly commands: readonly Command[];
}

export interface Sequence extends CommandBase {
  readonly kind: 'Sequence';
  readonly meta?: Meta;
  readonly commands: readonly Command[];
}

export interface Results extends CommandBase {
  readonly kind: 'Results';
  readonly msgRef?: number;
  readonly cmdRef: number;
  readonly meta?: Meta;
  readonly targetRef?: string;
  readonly sourceRef?: string;
  readonly items: readonly Item[];
}

export interface Status extends CommandBase {
  readonly kind: 'Status';
  readonly msgRef: number;
  /** 0 when it answers the SyncHdr; absent only when a lenient read found none (docs/interop.md) */
  readonly cmdRef?: number;
  readonly cmd: string;
  readonly targetRefs: readonly string[];
  readonly sourceRefs: readonly string[];
  readonly cred?: Cred;
  readonly chal?: Chal;
  readonly code: number;
  readonly items: readonly Item[];
}

/**
 * A command the decoder recognised but DM does not use (Sync, Map, Put, Search…): kept so that a
 * session engine can answer it with Status 406 instead of dropping the whole message. Never encoded.
 */
export interface Unsupported extends CommandBase {
  readonly kind: 'Unsupported';
  readonly name: string;
}

export type Command = Add | Alert | Atomic | Copy | Delete | Exec | Get | Replace | Results | Sequence | Status | Unsupported;
export type CommandKind = Command['kind'];

// Direction is part of the type: what a server may send, what a client may answer with.
export type ServerCommand = Add | Alert | Atomic | Copy | Delete | Exec | Get | Replace | Sequence | Status;
export type ClientCommand = Alert | Replace | Results | Status;

export interface SyncHdr {
  readonly verDtd: string; // '1.2' (or '1.1')
  readonly verProto: string; // 'DM/1.2' | 'DM/1.3'
  readonly sessionId: string;
  readonly msgId: number;
  readonly target: LocRef;
  readonly source: LocRef;
  readonly respUri?: string;
  readonly noResp?: boolean;
  readonly cred?: Cred;
  readonly meta?: Meta;
}

export interface SyncBody {
  readonly commands: readonly Command[];
  readonly final: boolean;
}

export interface Message {
  readonly hdr: SyncHdr;
  readonly body: SyncBody;
}

/** Format values of the DM tree and MetInf. */
export const Format = {
  B64: 'b64',
  Bin: 'bin',
  Bool: 'bool',
  Chr: 'chr',
  Int: 'int',
  Node: 'node',
  Null: 'null',
  Xml: 'xml',
  Date: 'date',
  Time: 'time',
  Float: 'float',
} as const;
export type Format = (typeof Format)[keyof typeof Format];

/** The Format that decides how an item's Data is read: Item Meta first, then the command's. */
export function effectiveFormat(item: Item, commandMeta: Meta | undefined): string {
  return item.meta?.format ?? commandMeta?.format ?? Format.Chr;
}

/** True when Data under this Format is carried as bytes in the model. */
export function isBinaryFormat(format: string): boolean {
  return format === Format.Bin || format === Format.B64;
}
