// The contract between the DM tree and the session engines (and later the gateway's code-backed
// MOs). Operations are async because a code-backed subtree may reach a device (LwM2M read) to
// answer. Every operation answers with a DM status code instead of throwing: the session engine
// turns it into a Status command as it is.
import type { ItemData } from '../protocol/model.ts';

export type Format = 'b64' | 'bin' | 'bool' | 'chr' | 'int' | 'node' | 'null' | 'xml' | 'date' | 'time' | 'float';

/**
 * Who runs the operation: a server id (DMAcc ServerID of the authenticated session), checked
 * against ACLs; or the device itself (local code, bootstrap), which bypasses them.
 */
export type Principal = { readonly kind: 'server'; readonly serverId: string } | { readonly kind: 'local' };
export const LOCAL: Principal = { kind: 'local' };

/** One node as Get returns it: a Results Item (Source = uri). */
export interface NodeValue {
  readonly uri: string;
  readonly format: Format;
  /** MIME type (leaf) or MO identifier (interior); undefined = none */
  readonly type?: string;
  /** Interior node: child names joined by '/'. Leaf: the value (bytes for bin/b64). Absent for ?list=Struct. */
  readonly data?: ItemData;
}

export type TreeResult<T> = { readonly status: number; readonly value?: T };

/** What Add and Replace carry from the command: the item's effective Meta and Data. */
export interface Write {
  readonly format?: string;
  readonly type?: string;
  readonly data?: ItemData;
}

export interface ExecRequest {
  readonly data?: ItemData;
  readonly correlator?: string;
}

export interface DmTree {
  /** `uri`, `uri?prop=Name`, `uri?list=Struct|StructData`: 200 with one or more nodes; 404, 405, 406, 414, 425… */
  get(who: Principal, uri: string): Promise<TreeResult<readonly NodeValue[]>>;
  /** 200 on success; 418 already exists; 404 parent missing (or created implicitly per DM rules); 425; 405 … */
  add(who: Principal, uri: string, write: Write): Promise<number>;
  /** Value, or `?prop=ACL|Name|Title`; 200; 404; 405 (permanent/format); 425 … */
  replace(who: Principal, uri: string, write: Write): Promise<number>;
  /** Node and its subtree; 200; 404; 405 permanent; 425 */
  delete(who: Principal, uri: string): Promise<number>;
  /** Copy leaf `source` onto `target` (Add or Replace semantics); 200/404/425… */
  copy(who: Principal, target: string, source: string): Promise<number>;
  /** 200 done, 202 accepted (result will come as a Generic Alert with the correlator), 404, 405, 425 */
  exec(who: Principal, uri: string, request: ExecRequest): Promise<number>;
  /**
   * Starts an atomic unit (Atomic, a chunked large object): every change after it is undone by
   * `rollback`, kept by `commit`. Not nested.
   */
  begin(): Promise<TreeTransaction>;
}

export interface TreeTransaction {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}
