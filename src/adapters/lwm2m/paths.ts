// DM-style URIs for LwM2M devices (docs/lwm2m.md): "./3/0/0" is object 3, instance 0, resource 0;
// DevInfo/DevDetail names map onto object 3 so a fanout can treat DM and LwM2M devices alike.
import { type Path, parsePath } from './model.ts';

const ALIASES: Readonly<Record<string, string>> = {
  'DevInfo/Man': '3/0/0',
  'DevInfo/Mod': '3/0/1',
  'DevDetail/FwV': '3/0/3',
  'DevDetail/HwV': '3/0/18',
  'DevDetail/SwV': '3/0/19',
  'DevDetail/DevTyp': '3/0/17',
  'DevInfo/Ext/Serial': '3/0/2',
};

export function lwm2mPath(dmUri: string): Path | undefined {
  const rel = dmUri.replace(/^\.\//, '').replace(/^\//, '');
  return parsePath(ALIASES[rel] ?? rel);
}
