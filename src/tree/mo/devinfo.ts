// ./DevInfo and ./DevDetail (digest §8.6): permanent, read-only to servers.
import type { Tree } from '../tree.ts';

export interface DevInfo {
  readonly DevId: string;
  readonly Man: string;
  readonly Mod: string;
  readonly DmV: string;
  readonly Lang: string;
}

export interface DevDetail {
  readonly DevTyp: string;
  readonly OEM: string;
  readonly FwV: string;
  readonly SwV: string;
  readonly HwV: string;
  readonly LrgObj: boolean;
  /** URI limits: 0 = unlimited */
  readonly maxDepth?: number;
  readonly maxTotLen?: number;
  readonly maxSegLen?: number;
}

const READ_ONLY = ['Get'] as const;

export function installDevInfo(tree: Tree, info: DevInfo): void {
  tree.define('./DevInfo', { format: 'node', type: 'urn:oma:mo:oma-dm-devinfo:1.0', permanent: true, access: READ_ONLY });
  for (const [name, value] of Object.entries(info)) tree.define(`./DevInfo/${name}`, { value, permanent: true, access: READ_ONLY });
}

/** Every DevInfo leaf, nested ones (`Ext/…`, `Bearer/…`) by their path below ./DevInfo. */
export function readDevInfo(tree: Tree): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of tree.list(`./DevInfo${rel ? `/${rel}` : ''}`)) {
      const path = rel ? `${rel}/${name}` : name;
      const v = tree.read(`./DevInfo/${path}`);
      if (typeof v === 'string') out[path] = v;
      else walk(path);
    }
  };
  walk('');
  return out;
}

export function installDevDetail(tree: Tree, d: DevDetail): void {
  tree.define('./DevDetail', { format: 'node', type: 'urn:oma:mo:oma-dm-devdetail:1.0', permanent: true, access: READ_ONLY });
  const uri = { MaxDepth: d.maxDepth ?? 0, MaxTotLen: d.maxTotLen ?? 0, MaxSegLen: d.maxSegLen ?? 0 };
  for (const [name, value] of Object.entries(uri))
    tree.define(`./DevDetail/URI/${name}`, { value: String(value), permanent: true, access: READ_ONLY });
  for (const name of ['DevTyp', 'OEM', 'FwV', 'SwV', 'HwV'] as const)
    tree.define(`./DevDetail/${name}`, { value: d[name], permanent: true, access: READ_ONLY });
  tree.define('./DevDetail/LrgObj', { format: 'bool', value: String(d.LrgObj), permanent: true, access: READ_ONLY });
}
