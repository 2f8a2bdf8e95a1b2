// The device's DM tree: plain nodes kept in memory and written through to a persistence seam,
// ACLs checked per server id, properties, ?list=, mounts for code-backed subtrees and Exec
// handlers. Every operation answers with a DM status code.
import type { ItemData } from '../protocol/index.ts';
import { type AclCommand, allows, formatAcl, parseAcl, ROOT_DEFAULT_ACL } from './acl.ts';
import type { DmTree, ExecRequest, Format, NodeValue, Principal, TreeResult, TreeTransaction, Write } from './api.ts';
import type { ExecHandler, MountHandler, NodeRecord, TreePersistence } from './node.ts';
import { isWithin, join, nameOf, parentOf, type ParsedUri, parseUri, type UriLimits } from './uri.ts';
import { checkValue, FORMATS, sizeOf } from './values.ts';

const PROPS = new Set(['ACL', 'Format', 'Name', 'Size', 'Title', 'TStamp', 'Type', 'VerNo']);

export interface TreeOptions {
  readonly persistence?: TreePersistence;
  /** ms since the epoch, for TStamp */
  readonly now?: () => number;
}

function tstamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export class Tree implements DmTree {
  private readonly nodes = new Map<string, NodeRecord>();
  private readonly mounts = new Map<string, MountHandler>();
  private readonly execs = new Map<string, ExecHandler>();
  private readonly addHooks = new Map<string, (path: string) => void>();
  private readonly persistence: TreePersistence | undefined;
  private readonly now: () => number;
  private dirty = new Set<string>();
  private undo: Map<string, NodeRecord | undefined> | undefined;

  constructor(options: TreeOptions = {}) {
    this.persistence = options.persistence;
    this.now = options.now ?? (() => 0);
    for (const r of this.persistence?.load() ?? []) this.nodes.set(r.path, r as NodeRecord);
    if (!this.nodes.has('.')) {
      this.put({ path: '.', format: 'node', acl: ROOT_DEFAULT_ACL, verNo: 0, children: [], permanent: true });
      this.flush();
    }
  }

  // --- local API (device code: MOs, bootstrap): no ACL, may create permanent nodes ------------

  /** Creates (or updates) a node and its missing interior parents, as the device itself. */
  define(
    uri: string,
    node: { format?: Format; type?: string; value?: ItemData; acl?: string; permanent?: boolean; access?: NodeRecord['access'] },
  ): void {
    const parsed = this.parse(uri);
    const format = node.format ?? (node.value === undefined ? 'node' : 'chr');
    let parent = '.';
    for (const seg of parsed.segments.slice(0, -1)) {
      const path = join(parent, seg);
      if (!this.nodes.has(path)) this.create(path, { path, format: 'node', verNo: 0, children: [], permanent: node.permanent ?? false });
      parent = path;
    }
    const existing = this.nodes.get(parsed.path);
    const record: NodeRecord = {
      path: parsed.path,
      format,
      verNo: existing?.verNo ?? 0,
      children: existing?.children ?? [],
      permanent: node.permanent ?? existing?.permanent ?? false,
      ...(node.type !== undefined ? { type: node.type } : existing?.type !== undefined ? { type: existing.type } : {}),
      ...(format !== 'node' ? { value: node.value ?? '' } : {}),
      ...(node.acl !== undefined ? { acl: node.acl } : existing?.acl !== undefined ? { acl: existing.acl } : {}),
      ...(node.access ? { access: node.access } : existing?.access ? { access: existing.access } : {}),
      tstamp: tstamp(this.now()),
    };
    if (existing) this.put(record);
    else this.create(parsed.path, record);
    this.flush();
  }

  /** The value of a leaf as the device sees it (no ACL), or undefined. */
  read(uri: string): ItemData | undefined {
    const parsed = parseUri(uri);
    return parsed.ok ? this.nodes.get(parsed.uri.path)?.value : undefined;
  }

  /** Child names of an interior node as the device sees it. */
  list(uri: string): readonly string[] {
    const parsed = parseUri(uri);
    return parsed.ok ? (this.nodes.get(parsed.uri.path)?.children ?? []) : [];
  }

  exists(uri: string): boolean {
    const parsed = parseUri(uri);
    return parsed.ok && this.nodes.has(parsed.uri.path);
  }

  mount(uri: string, handler: MountHandler): void {
    this.mounts.set(this.parse(uri).path, handler);
  }

  onExec(uri: string, handler: ExecHandler): void {
    this.execs.set(this.parse(uri).path, handler);
  }

  /** Told after a server Adds an interior node right below `parent` (a device fills in what it owns, e.g. SCOMO Operations). */
  onAdd(parent: string, hook: (path: string) => void): void {
    this.addHooks.set(this.parse(parent).path, hook);
  }

  // --- DmTree ---------------------------------------------------------------------------------

  async get(who: Principal, uri: string): Promise<TreeResult<readonly NodeValue[]>> {
    const p = parseUri(uri, this.limits());
    if (!p.ok) return { status: p.status };
    const { path, prop, list } = p.uri;
    const mounted = this.mountOf(path);
    if (mounted) return this.getMounted(who, p.uri, mounted);
    const node = this.nodes.get(path);
    if (!node) return { status: 404 };
    if (!this.accessAllows(node, 'Get')) return { status: 405 };
    if (!this.may(who, path, 'Get')) return { status: 425 };
    if (prop !== undefined) return this.getProp(node, prop, uri);
    if (list !== undefined) {
      if (list !== 'Struct' && list !== 'StructData') return { status: 406 };
      const out: NodeValue[] = [];
      const walk = async (n: NodeRecord): Promise<void> => {
        if (!this.may(who, n.path, 'Get') || !this.accessAllows(n, 'Get')) return;
        const handler = this.mounts.get(n.path);
        if (handler) {
          // a code-backed subtree lists itself
          const sub = await this.getMounted(who, { path: n.path, segments: [], list }, { handler, at: n.path, rel: [] });
          out.push(...(sub.value ?? []));
          return;
        }
        out.push({
          uri: n.path,
          format: n.format,
          ...(n.type ? { type: n.type } : {}),
          ...(list === 'StructData' && n.format !== 'node' && n.value !== undefined ? { data: n.value } : {}),
        });
        for (const c of n.children) await walk(this.nodes.get(join(n.path, c))!);
      };
      await walk(node);
      return { status: 200, value: out };
    }
    return { status: 200, value: [this.valueOf(node)] };
  }

  async add(who: Principal, uri: string, write: Write): Promise<number> {
    const p = parseUri(uri, this.limits());
    if (!p.ok) return p.status;
    const { path, prop } = p.uri;
    if (prop !== undefined) return 405; // properties come with the node; none can be added
    if (path === '.') return 418;
    const mounted = this.mountOf(path);
    if (mounted) {
      if (!this.may(who, mounted.at, 'Add')) return 425;
      return mounted.handler.add ? mounted.handler.add(mounted.rel, write) : 405;
    }
    if (this.nodes.has(path)) return 418;
    const parentPath = parentOf(path)!;
    const parent = this.nodes.get(parentPath);
    if (!parent) return 404;
    if (parent.format !== 'node') return 405;
    if (!this.accessAllows(parent, 'Add')) return 405;
    if (!this.may(who, parentPath, 'Add')) return 425;
    const format = (write.format ?? 'chr') as Format;
    if (!FORMATS.has(format)) return 415;
    const valueCheck = checkValue(format, write.data);
    if (valueCheck !== 200) return valueCheck;
    let acl: string | undefined;
    if (format === 'node' && who.kind === 'server' && !this.may(who, parentPath, 'Replace')) {
      // the creator of an interior node it could not otherwise manage gets the rights to do so
      acl = `Get=*&Add=${who.serverId}&Delete=${who.serverId}&Replace=${who.serverId}`;
    }
    this.create(path, {
      path,
      format,
      verNo: 0,
      children: [],
      permanent: false,
      tstamp: tstamp(this.now()),
      ...(write.type ? { type: write.type } : {}),
      ...(format !== 'node' ? { value: write.data ?? '' } : {}),
      ...(acl ? { acl } : {}),
    });
    if (format === 'node') this.addHooks.get(parentPath)?.(path);
    this.flushUnlessAtomic();
    return 200;
  }

  async replace(who: Principal, uri: string, write: Write): Promise<number> {
    const p = parseUri(uri, this.limits());
    if (!p.ok) return p.status;
    const { path, prop } = p.uri;
    const mounted = this.mountOf(path);
    if (mounted) {
      if (!this.may(who, mounted.at, 'Replace')) return 425;
      if (prop === 'Name' && mounted.handler.rename) {
        const name = typeof write.data === 'string' ? write.data : Buffer.from(write.data ?? new Uint8Array(0)).toString('utf8');
        return mounted.handler.rename(mounted.rel, name);
      }
      if (prop !== undefined) return 405;
      return mounted.handler.replace ? mounted.handler.replace(mounted.rel, write) : 405;
    }
    const node = this.nodes.get(path);
    if (!node) return 404;
    if (prop !== undefined) return this.replaceProp(who, node, prop, write.data);
    if (!this.accessAllows(node, 'Replace') || node.format === 'node') return 405;
    if (!this.may(who, path, 'Replace')) return 425;
    const format = (write.format ?? node.format) as Format;
    if (!FORMATS.has(format) || format === 'node') return 415;
    if (format !== node.format && node.permanent) return 415;
    const valueCheck = checkValue(format, write.data);
    if (valueCheck !== 200) return valueCheck;
    this.put({
      ...node,
      format,
      value: write.data ?? '',
      ...(write.type ? { type: write.type } : {}),
      verNo: (node.verNo + 1) & 0xffff,
      tstamp: tstamp(this.now()),
    });
    this.flushUnlessAtomic();
    return 200;
  }

  async delete(who: Principal, uri: string): Promise<number> {
    const p = parseUri(uri, this.limits());
    if (!p.ok) return p.status;
    const { path, prop } = p.uri;
    if (prop !== undefined) return 405;
    const mounted = this.mountOf(path);
    if (mounted) {
      if (!this.may(who, mounted.at, 'Delete')) return 425;
      return mounted.handler.delete ? mounted.handler.delete(mounted.rel) : 405;
    }
    const node = this.nodes.get(path);
    if (!node) return 404;
    if (path === '.' || node.permanent || !this.accessAllows(node, 'Delete')) return 405;
    if (!this.may(who, path, 'Delete')) return 425;
    // a delete takes the subtree with it, permanent children included (the DDF only guards direct deletes)
    for (const p2 of [...this.nodes.keys()]) if (isWithin(p2, path)) this.put(undefined, p2);
    const parentPath = parentOf(path)!;
    const parent = this.nodes.get(parentPath)!;
    this.put({ ...parent, children: parent.children.filter((c) => c !== nameOf(path)) });
    this.flushUnlessAtomic();
    return 200;
  }

  async copy(who: Principal, target: string, source: string): Promise<number> {
    const from = await this.get(who, source);
    if (from.status !== 200) return from.status;
    const value = from.value![0]!;
    if (value.format === 'node') return 405; // only leaves are copied
    const write: Write = {
      format: value.format,
      ...(value.type ? { type: value.type } : {}),
      ...(value.data !== undefined ? { data: value.data } : {}),
    };
    const p = parseUri(target, this.limits());
    if (!p.ok) return p.status;
    return this.nodes.has(p.uri.path) ? this.replace(who, target, write) : this.add(who, target, write);
  }

  async exec(who: Principal, uri: string, request: ExecRequest): Promise<number> {
    const p = parseUri(uri, this.limits());
    if (!p.ok) return p.status;
    if (p.uri.prop !== undefined) return 405;
    const mounted = this.mountOf(p.uri.path);
    if (mounted) {
      if (!this.may(who, mounted.at, 'Exec')) return 425;
      return mounted.handler.exec ? mounted.handler.exec(mounted.rel, request) : 405;
    }
    const node = this.nodes.get(p.uri.path);
    if (!node) return 404;
    const handler = this.execs.get(p.uri.path);
    if (!handler || !this.accessAllows(node, 'Exec')) return 405;
    if (!this.may(who, p.uri.path, 'Exec')) return 425;
    try {
      return await handler(who.kind === 'server' ? { ...request, serverId: who.serverId } : request);
    } catch {
      return 500;
    }
  }

  async begin(): Promise<TreeTransaction> {
    if (this.undo) throw new Error('a tree transaction is already open');
    const undo = new Map<string, NodeRecord | undefined>();
    this.undo = undo;
    return {
      commit: async () => {
        this.undo = undefined;
        this.flush();
      },
      rollback: async () => {
        this.undo = undefined;
        for (const [path, before] of undo) {
          if (before) this.nodes.set(path, before);
          else this.nodes.delete(path);
        }
        this.dirty = new Set([...this.dirty].filter((d) => !undo.has(d)));
        this.flush();
      },
    };
  }

  // --- internals -------------------------------------------------------------------------------

  private parse(uri: string): ParsedUri {
    const p = parseUri(uri);
    if (!p.ok) throw new Error(`bad DM URI "${uri}": ${p.reason}`);
    return p.uri;
  }

  private limits(): UriLimits {
    const n = (name: string): number => {
      const v = this.nodes.get(`./DevDetail/URI/${name}`)?.value;
      const x = Number(typeof v === 'string' ? v : NaN);
      return Number.isInteger(x) && x > 0 ? x : 0;
    };
    return { maxDepth: n('MaxDepth'), maxTotLen: n('MaxTotLen'), maxSegLen: n('MaxSegLen') };
  }

  /** The nearest ancestor-or-self ACL, as OMA DM inherits it (all or nothing). */
  private effectiveAcl(path: string): string {
    for (let p: string | undefined = path; p !== undefined; p = parentOf(p)) {
      const acl = this.nodes.get(p)?.acl;
      if (acl !== undefined && acl !== '') return acl;
    }
    return ROOT_DEFAULT_ACL;
  }

  private may(who: Principal, path: string, cmd: AclCommand): boolean {
    if (who.kind === 'local') return true;
    const acl = parseAcl(this.effectiveAcl(path));
    return acl !== undefined && allows(acl, cmd, who.serverId);
  }

  private accessAllows(node: NodeRecord, cmd: AclCommand): boolean {
    return node.access === undefined || node.access.includes(cmd);
  }

  private valueOf(node: NodeRecord): NodeValue {
    const data: ItemData = node.format === 'node' ? node.children.join('/') : (node.value ?? '');
    return { uri: node.path, format: node.format, ...(node.type ? { type: node.type } : {}), data };
  }

  private getProp(node: NodeRecord, prop: string, uri: string): TreeResult<readonly NodeValue[]> {
    if (!PROPS.has(prop)) return { status: 406 };
    const text = (value: string): TreeResult<readonly NodeValue[]> => ({ status: 200, value: [{ uri, format: 'chr', data: value }] });
    switch (prop) {
      case 'ACL':
        return text(node.acl ?? '');
      case 'Format':
        return text(node.format);
      case 'Name':
        return text(nameOf(node.path));
      case 'Size':
        return node.format === 'node' ? { status: 406 } : text(String(sizeOf(node.value)));
      case 'Title':
        return text(node.title ?? '');
      case 'TStamp':
        return text(node.tstamp ?? '');
      case 'Type':
        return text(node.type ?? '');
      default:
        return text(node.verNo.toString(16).toUpperCase().padStart(4, '0'));
    }
  }

  private replaceProp(who: Principal, node: NodeRecord, prop: string, data: ItemData | undefined): number {
    if (!PROPS.has(prop)) return 406;
    const value = typeof data === 'string' ? data : data === undefined ? '' : Buffer.from(data).toString('utf8');
    const parentPath = parentOf(node.path);
    switch (prop) {
      case 'ACL': {
        // interior: own Replace or the parent's; leaf: only the parent's Replace (digest §8.4)
        const ok =
          who.kind === 'local' ||
          (parentPath !== undefined && this.may(who, parentPath, 'Replace')) ||
          (node.format === 'node' && this.may(who, node.path, 'Replace'));
        if (!ok) return 425;
        const acl = parseAcl(value);
        if (acl === undefined) return 400;
        if (node.path === '.' && !allows(acl, 'Add', '*')) return 405; // the root's Add stays '*'
        this.put({ ...node, acl: formatAcl(acl) });
        break;
      }
      case 'Name': {
        if (!this.may(who, node.path, 'Replace')) return 425;
        if (node.permanent || parentPath === undefined) return 405;
        const check = parseUri(join(parentPath, value), this.limits());
        if (!check.ok || value.includes('/')) return check.ok ? 400 : check.status;
        if (this.nodes.has(check.uri.path)) return 418;
        this.rename(node.path, check.uri.path);
        break;
      }
      case 'Title':
        if (!this.may(who, node.path, 'Replace')) return 425;
        if (Buffer.byteLength(value) > 255) return 416;
        this.put({ ...node, title: value });
        break;
      default:
        return 405;
    }
    this.flushUnlessAtomic();
    return 200;
  }

  private rename(from: string, to: string): void {
    for (const [p, rec] of [...this.nodes]) {
      if (!isWithin(p, from)) continue;
      const moved = to + p.slice(from.length);
      this.put(undefined, p);
      this.put({ ...rec, path: moved });
    }
    const parentPath = parentOf(from)!;
    const parent = this.nodes.get(parentPath)!;
    this.put({ ...parent, children: parent.children.map((c) => (c === nameOf(from) ? nameOf(to) : c)) });
  }

  private create(path: string, record: NodeRecord): void {
    this.put({ ...record, path });
    const parentPath = parentOf(path)!;
    const parent = this.nodes.get(parentPath)!;
    if (!parent.children.includes(nameOf(path))) this.put({ ...parent, children: [...parent.children, nameOf(path)] });
  }

  /** Every change goes through here: undo log for Atomic, dirty set for persistence. */
  private put(record: NodeRecord | undefined, path = record?.path): void {
    if (path === undefined) return;
    if (this.undo && !this.undo.has(path)) this.undo.set(path, this.nodes.get(path));
    if (record) this.nodes.set(path, record);
    else this.nodes.delete(path);
    this.dirty.add(path);
  }

  private flushUnlessAtomic(): void {
    if (!this.undo) this.flush();
  }

  private flush(): void {
    if (this.dirty.size === 0) return;
    const puts: NodeRecord[] = [];
    const deletes: string[] = [];
    for (const p of this.dirty) {
      const r = this.nodes.get(p);
      if (r) puts.push(r);
      else deletes.push(p);
    }
    this.dirty.clear();
    this.persistence?.apply(puts, deletes);
  }

  private mountOf(path: string): { handler: MountHandler; at: string; rel: string[] } | undefined {
    for (const [at, handler] of this.mounts) {
      if (isWithin(path, at)) return { handler, at, rel: path === at ? [] : path.slice(at.length + 1).split('/') };
    }
    return undefined;
  }

  private async getMounted(
    who: Principal,
    uri: ParsedUri,
    m: { handler: MountHandler; at: string; rel: string[] },
  ): Promise<TreeResult<readonly NodeValue[]>> {
    if (!this.may(who, m.at, 'Get')) return { status: 425 };
    const node = await m.handler.get(m.rel);
    if (!node) return { status: 404 };
    if (uri.prop !== undefined) {
      if (uri.prop === 'Format') return { status: 200, value: [{ uri: `${uri.path}?prop=Format`, format: 'chr', data: node.format }] };
      if (uri.prop === 'Type') return { status: 200, value: [{ uri: `${uri.path}?prop=Type`, format: 'chr', data: node.type ?? '' }] };
      return { status: PROPS.has(uri.prop) ? 405 : 406 };
    }
    const one = (path: string, n: typeof node, withData: boolean): NodeValue => ({
      uri: path,
      format: n.format,
      ...(n.type ? { type: n.type } : {}),
      ...(withData ? { data: n.format === 'node' ? (n.children ?? []).join('/') : (n.value ?? '') } : {}),
    });
    if (uri.list === undefined) return node.writeOnly ? { status: 405 } : { status: 200, value: [one(uri.path, node, true)] };
    if (uri.list !== 'Struct' && uri.list !== 'StructData') return { status: 406 };
    const out: NodeValue[] = [];
    const walk = async (path: string, rel: string[], n: typeof node): Promise<void> => {
      out.push(one(path, n, uri.list === 'StructData' && n.format !== 'node' && !n.writeOnly));
      for (const c of n.children ?? []) {
        const child = await m.handler.get([...rel, c]);
        if (child) await walk(join(path, c), [...rel, c], child);
      }
    };
    await walk(uri.path, m.rel, node);
    return { status: 200, value: out };
  }
}
