// Persistence of a device's DM tree: one record per node, written in batches (one per operation or
// per committed Atomic).
export interface TreeNodeRecord {
  /** './A/B' or '.' */
  readonly path: string;
  readonly format: string;
  readonly type?: string;
  readonly value?: string | Uint8Array;
  readonly acl?: string;
  readonly title?: string;
  readonly tstamp?: string;
  readonly verNo: number;
  readonly children: readonly string[];
  readonly permanent: boolean;
  /** commands the node's definition allows; absent = all */
  readonly access?: readonly string[];
}

export interface TreeStore {
  load(): TreeNodeRecord[];
  /** applies puts and deletes atomically */
  apply(puts: readonly TreeNodeRecord[], deletes: readonly string[]): void;
  close(): void;
}

export class MemoryTreeStore implements TreeStore {
  readonly records = new Map<string, TreeNodeRecord>();
  load(): TreeNodeRecord[] {
    return [...this.records.values()];
  }
  apply(puts: readonly TreeNodeRecord[], deletes: readonly string[]): void {
    for (const d of deletes) this.records.delete(d);
    for (const p of puts) this.records.set(p.path, p);
  }
  close(): void {}
}
