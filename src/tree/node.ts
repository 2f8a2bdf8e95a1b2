// A node of the tree as kept in memory and persisted (structurally the same as the store's
// TreeNodeRecord: the tree does not import the store, the cli hands one to it).
import type { ItemData } from '../protocol/index.ts';
import type { AclCommand } from './acl.ts';
import type { Format } from './api.ts';

export interface NodeRecord {
  readonly path: string;
  readonly format: Format;
  readonly type?: string;
  readonly value?: ItemData;
  readonly acl?: string;
  readonly title?: string;
  readonly tstamp?: string;
  readonly verNo: number;
  readonly children: readonly string[];
  /** permanent nodes (made by the device) cannot be deleted or renamed by a server */
  readonly permanent: boolean;
  /** the commands the MO definition allows on this node (DDF AccessType); absent = all */
  readonly access?: readonly (AclCommand | 'Copy')[];
}

/** How a node is stored: the same record, with the enumerations as plain strings. */
export type StoredNode = Omit<NodeRecord, 'format' | 'access'> & { readonly format: string; readonly access?: readonly string[] };

export interface TreePersistence {
  load(): StoredNode[];
  apply(puts: readonly StoredNode[], deletes: readonly string[]): void;
}

/** A subtree whose nodes are computed by code (GwMO objects, adapters): paths relative to the mount. */
export interface MountHandler {
  /** the node at `rel` ([] = the mount point), or undefined (404) */
  get(rel: readonly string[]): Promise<MountedNode | undefined>;
  add?(rel: readonly string[], write: { format?: string; type?: string; data?: ItemData }): Promise<number>;
  replace?(rel: readonly string[], write: { format?: string; type?: string; data?: ItemData }): Promise<number>;
  delete?(rel: readonly string[]): Promise<number>;
  exec?(rel: readonly string[], request: { data?: ItemData; correlator?: string }): Promise<number>;
  /** Replace of `?prop=Name` */
  rename?(rel: readonly string[], name: string): Promise<number>;
}

export interface MountedNode {
  readonly format: Format;
  readonly type?: string;
  /** leaf value */
  readonly value?: ItemData;
  /** interior: child names */
  readonly children?: readonly string[];
  /** a secret leaf: written, never read (a Get of it is 405; ?list=StructData leaves its data out) */
  readonly writeOnly?: boolean;
}

/** `serverId`: the server whose Exec this is (its Generic Alert goes back to that server) */
export type ExecHandler = (request: { data?: ItemData; correlator?: string; serverId?: string }) => Promise<number> | number;
