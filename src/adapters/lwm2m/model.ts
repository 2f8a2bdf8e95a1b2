// LwM2M data as the adapter handles it: paths, resource types and values (LwM2M 1.1 TS).
export type ResourceType = 'string' | 'integer' | 'unsigned' | 'float' | 'boolean' | 'opaque' | 'time' | 'objlnk';

export type Value = string | number | boolean | Uint8Array | { readonly objectId: number; readonly instanceId: number };

export interface Path {
  readonly objectId: number;
  readonly instanceId?: number;
  readonly resourceId?: number;
  readonly resourceInstanceId?: number;
}

/** One resource value; multi-instance resources carry several with resourceInstanceId. */
export interface ResourceValue {
  readonly path: Path;
  readonly value: Value;
}

export function pathText(p: Path): string {
  return `/${[p.objectId, p.instanceId, p.resourceId, p.resourceInstanceId].filter((x) => x !== undefined).join('/')}`;
}

/** "/3/0/1" → path; undefined when not an LwM2M path. */
export function parsePath(text: string): Path | undefined {
  const parts = text
    .replace(/^\//, '')
    .split('/')
    .filter((s) => s !== '');
  if (parts.length === 0 || parts.length > 4 || parts.some((s) => !/^\d{1,5}$/.test(s) || Number(s) > 65535)) return undefined;
  const [o, i, r, ri] = parts.map(Number);
  return {
    objectId: o!,
    ...(i !== undefined ? { instanceId: i } : {}),
    ...(r !== undefined ? { resourceId: r } : {}),
    ...(ri !== undefined ? { resourceInstanceId: ri } : {}),
  };
}

export const ContentFormat = { Text: 0, LinkFormat: 40, Opaque: 42, Tlv: 11542, SenmlJson: 110, SenmlCbor: 112, LwTlvOld: 1542 } as const;

export class Lwm2mFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Lwm2mFormatError';
  }
}
