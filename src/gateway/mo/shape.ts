// A small way to describe a code-backed subtree: interior nodes list children, leaves compute
// values; writes return DM status codes. The MOs of the gateway are built from these.
import type { ItemData } from '../../protocol/index.ts';
import type { Format, MountedNode, MountHandler } from '../../tree/index.ts';

export interface Write {
  readonly format?: string;
  readonly type?: string;
  readonly data?: ItemData;
}

export interface Leaf {
  readonly kind: 'leaf';
  readonly format: Format;
  readonly type?: string;
  value(): ItemData | undefined;
  /** a secret: Replace only, a Get is refused (405) */
  readonly writeOnly?: boolean;
  replace?(write: Write): number;
  remove?(): number;
}

export interface Dir {
  readonly kind: 'dir';
  readonly type?: string;
  children(): ReadonlyMap<string, Node>;
  /** one child by name, where listing them all to find it would read a whole table on every command */
  child?(name: string): Node | undefined;
  /** Add of a new child `name` */
  add?(name: string, write: Write): number;
  /** Delete of this node */
  remove?(): number;
  rename?(name: string): number;
  exec?(request: { data?: ItemData; correlator?: string }): number | Promise<number>;
}

export interface ExecLeaf {
  readonly kind: 'exec';
  exec(request: { data?: ItemData; correlator?: string }): number | Promise<number>;
}

export type Node = Leaf | Dir | ExecLeaf;

export const leaf = (format: Format, value: () => ItemData | undefined, replace?: (w: Write) => number, type?: string): Leaf => ({
  kind: 'leaf',
  format,
  value,
  ...(replace ? { replace } : {}),
  ...(type ? { type } : {}),
});

export const dir = (children: () => Iterable<[string, Node]>, extra: Partial<Omit<Dir, 'kind' | 'children'>> = {}): Dir => ({
  kind: 'dir',
  children: () => new Map(children()),
  ...extra,
});

export const text = (w: Write): string => (typeof w.data === 'string' ? w.data : w.data ? Buffer.from(w.data).toString('utf8') : '');

const childOf = (d: Dir, name: string): Node | undefined => (d.child ? d.child(name) : d.children().get(name));

function find(root: Node, rel: readonly string[]): { node: Node; parent?: Dir; name?: string } | undefined {
  let node: Node = root;
  let parent: Dir | undefined;
  for (const seg of rel) {
    if (node.kind !== 'dir') return undefined;
    parent = node;
    const next = childOf(node, seg);
    if (!next) return undefined;
    node = next;
  }
  return { node, ...(parent ? { parent } : {}), ...(rel.length ? { name: rel[rel.length - 1]! } : {}) };
}

/** Turns a shape into the tree's MountHandler. */
export function mountOf(root: () => Node): MountHandler {
  return {
    get: async (rel): Promise<MountedNode | undefined> => {
      const f = find(root(), rel);
      if (!f) return undefined;
      const n = f.node;
      if (n.kind === 'dir') return { format: 'node', ...(n.type ? { type: n.type } : {}), children: [...n.children().keys()] };
      if (n.kind === 'exec') return { format: 'null' };
      if (n.writeOnly) return { format: n.format, writeOnly: true };
      const value = n.value();
      return { format: n.format, ...(n.type ? { type: n.type } : {}), ...(value !== undefined ? { value } : {}) };
    },
    add: async (rel, write) => {
      if (rel.length === 0) return 418;
      const parent = find(root(), rel.slice(0, -1));
      if (!parent) return 404;
      if (parent.node.kind !== 'dir') return 405;
      if (childOf(parent.node, rel[rel.length - 1]!)) return 418;
      return parent.node.add ? parent.node.add(rel[rel.length - 1]!, write) : 405;
    },
    replace: async (rel, write) => {
      const f = find(root(), rel);
      if (!f) return 404;
      return f.node.kind === 'leaf' && f.node.replace ? f.node.replace(write) : 405;
    },
    delete: async (rel) => {
      const f = find(root(), rel);
      if (!f) return 404;
      return f.node.kind !== 'exec' && f.node.remove ? f.node.remove() : 405;
    },
    exec: async (rel, request) => {
      const f = find(root(), rel);
      if (!f) return 404;
      return f.node.kind === 'exec' || (f.node.kind === 'dir' && f.node.exec) ? (f.node as ExecLeaf).exec(request) : 405;
    },
    rename: async (rel, name) => {
      const f = find(root(), rel);
      if (!f) return 404;
      return f.node.kind === 'dir' && f.node.rename ? f.node.rename(name) : 405;
    },
  };
}
