// text/plain (content format 0): one resource value as text; booleans are 0/1, opaque is base64.
import { Lwm2mFormatError, type ResourceType, type Value } from './model.ts';

export function decodeText(bytes: Uint8Array, type: ResourceType): Value {
  const s = Buffer.from(bytes).toString('utf8');
  switch (type) {
    case 'integer':
    case 'unsigned':
    case 'time':
      if (!/^-?\d+$/.test(s.trim())) throw new Lwm2mFormatError(`"${s.slice(0, 20)}" is not an integer`);
      return Number(s);
    case 'float':
      if (Number.isNaN(Number(s))) throw new Lwm2mFormatError(`"${s.slice(0, 20)}" is not a number`);
      return Number(s);
    case 'boolean':
      if (s !== '0' && s !== '1') throw new Lwm2mFormatError('a text boolean is 0 or 1');
      return s === '1';
    case 'opaque':
      return new Uint8Array(Buffer.from(s, 'base64'));
    case 'objlnk': {
      const [o, i] = s.split(':').map(Number);
      return { objectId: o ?? 0, instanceId: i ?? 0 };
    }
    default:
      return s;
  }
}

export function encodeText(value: Value): Uint8Array {
  if (value instanceof Uint8Array) return new TextEncoder().encode(Buffer.from(value).toString('base64'));
  if (typeof value === 'boolean') return new TextEncoder().encode(value ? '1' : '0');
  if (typeof value === 'object') return new TextEncoder().encode(`${value.objectId}:${value.instanceId}`);
  return new TextEncoder().encode(String(value));
}
