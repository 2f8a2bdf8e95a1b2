// ./GwMO/Config: the Gateway Config MO (urn:oma:mo:oma-gwmo-config:1.1), backed by GatewayConfig.
import { CONFIG_FIELDS, type GatewayConfig } from '../config.ts';
import { dir, leaf, type Node, text } from './shape.ts';

export const CONFIG_URN = 'urn:oma:mo:oma-gwmo-config:1.1';

export function configShape(config: GatewayConfig): Node {
  // nest the flat field paths ("Fanout/MaxConcurrency") into interior nodes
  const build = (prefix: string): [string, Node][] => {
    const names = new Set<string>();
    for (const f of CONFIG_FIELDS) {
      if (!f.path.startsWith(prefix)) continue;
      names.add(f.path.slice(prefix.length).split('/')[0]!);
    }
    return [...names].map((name) => {
      const path = prefix + name;
      const field = config.field(path);
      if (!field) return [name, dir(() => build(`${path}/`))];
      return [name, leaf(field.format, () => config.get(path), field.writable ? (w) => config.set(path, text(w).trim()) : undefined)];
    });
  };
  return dir(() => build(''), { type: CONFIG_URN });
}
