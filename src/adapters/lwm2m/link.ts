// CoRE Link Format (RFC 6690) as in LwM2M Register/Discover: "</1/0>,</3/0>;ver=1.1,</3303/0>".
import { Lwm2mFormatError, parsePath, type Path } from './model.ts';

export interface Link {
  readonly path: Path;
  readonly attributes: Readonly<Record<string, string>>;
}

export function parseLinks(text: string): Link[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!m) throw new Lwm2mFormatError(`"${part.slice(0, 40)}" is not a link`);
    const target = m[1]!;
    const attributes: Record<string, string> = {};
    for (const a of m[2]!.split(';').filter((s) => s.trim() !== '')) {
      const [k, v] = a.split('=');
      attributes[k!.trim()] = (v ?? '').replace(/^"|"$/g, '');
    }
    // "</>;rt=\"oma.lwm2m\"" names the root; object links are numeric
    const path = target === '/' ? { objectId: -1 } : parsePath(target);
    if (!path) throw new Lwm2mFormatError(`link target ${target} is not an LwM2M path`);
    return { path, attributes };
  });
}

export function formatLinks(links: readonly Link[]): string {
  return links
    .map(
      (l) =>
        `<${l.path.objectId < 0 ? '/' : `/${[l.path.objectId, l.path.instanceId, l.path.resourceId].filter((x) => x !== undefined).join('/')}`}>${Object.entries(
          l.attributes,
        )
          .map(([k, v]) => `;${k}=${v}`)
          .join('')}`,
    )
    .join(',');
}

/** The object and instance links of a registration, without the root link ("</>;rt=…;ct=…"). */
export function objectLinks(links: readonly Link[]): string {
  return formatLinks(links.filter((l) => l.path.objectId >= 0));
}
