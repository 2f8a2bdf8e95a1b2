// OMA-TLV (LwM2M 1.0/1.1 TS §7.4.3): type byte (identifier kind, id length, length type), id,
// optional length, value. Values are typed by the object model, not by the TLV.
import { Lwm2mFormatError, type ResourceType, type ResourceValue, type Value } from './model.ts';

const KIND = { ObjectInstance: 0, ResourceInstance: 1, MultipleResource: 2, Resource: 3 } as const;

export interface TlvEntry {
  readonly kind: 0 | 1 | 2 | 3;
  readonly id: number;
  /** value bytes for Resource / ResourceInstance; children for the others */
  readonly value?: Uint8Array;
  readonly children?: readonly TlvEntry[];
}

export function decodeTlv(bytes: Uint8Array): TlvEntry[] {
  const out: TlvEntry[] = [];
  let i = 0;
  while (i < bytes.length) {
    const type = bytes[i++]!;
    const kind = (type >> 6) as TlvEntry['kind'];
    const idLen = type & 0x20 ? 2 : 1;
    const lenType = (type >> 3) & 3;
    if (i + idLen + lenType > bytes.length) throw new Lwm2mFormatError(`TLV header cut at byte ${i - 1}`);
    const id = idLen === 2 ? (bytes[i]! << 8) | bytes[i + 1]! : bytes[i]!;
    i += idLen;
    let len = type & 7;
    if (lenType > 0) {
      len = 0;
      for (let k = 0; k < lenType; k++) len = (len << 8) | bytes[i++]!;
    }
    if (i + len > bytes.length) throw new Lwm2mFormatError(`TLV value of ${len} bytes runs past the end at byte ${i}`);
    const value = bytes.subarray(i, i + len);
    i += len;
    out.push(
      kind === KIND.ObjectInstance || kind === KIND.MultipleResource ? { kind, id, children: decodeTlv(value) } : { kind, id, value },
    );
  }
  return out;
}

export function encodeTlv(entries: readonly TlvEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const value = e.children ? encodeTlv(e.children) : (e.value ?? new Uint8Array(0));
    const idLen = e.id > 255 ? 2 : 1;
    const len = value.length;
    const lenType = len < 8 ? 0 : len < 0x100 ? 1 : len < 0x10000 ? 2 : 3;
    const head = [(e.kind << 6) | (idLen === 2 ? 0x20 : 0) | (lenType << 3) | (lenType === 0 ? len : 0)];
    if (idLen === 2) head.push(e.id >> 8, e.id & 0xff);
    else head.push(e.id);
    for (let k = lenType - 1; k >= 0; k--) head.push((len >> (8 * k)) & 0xff);
    parts.push(Uint8Array.from(head), value);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A typed value as TLV bytes (integers in the fewest of 1, 2, 4, 8 bytes, floats in 4 when exact). */
export function valueBytes(value: Value, type: ResourceType): Uint8Array {
  switch (type) {
    case 'string':
      return new TextEncoder().encode(String(value));
    case 'opaque':
      return value instanceof Uint8Array ? value : new TextEncoder().encode(String(value));
    case 'boolean':
      return Uint8Array.of(value === true || value === 'true' || value === 1 ? 1 : 0);
    case 'float': {
      // 4 bytes when the value is exactly a 32-bit float, else 8 (both valid TLV floats): clients
      // that read every TLV float as 4 bytes (coap-node's lwm2m-codec) get 21.5 right (docs/interop.md)
      const n = Number(value);
      const b = Buffer.alloc(Math.fround(n) === n || Number.isNaN(n) ? 4 : 8);
      if (b.length === 4) b.writeFloatBE(n);
      else b.writeDoubleBE(n);
      return new Uint8Array(b);
    }
    case 'objlnk': {
      const v = value as { objectId: number; instanceId: number };
      return Uint8Array.of(v.objectId >> 8, v.objectId & 0xff, v.instanceId >> 8, v.instanceId & 0xff);
    }
    default: {
      const n = BigInt(Math.trunc(Number(value)));
      for (const size of [1, 2, 4, 8]) {
        const min = -(1n << BigInt(size * 8 - 1));
        if (n >= min && n < -min) {
          const b = Buffer.alloc(size);
          if (size === 8) b.writeBigInt64BE(n);
          else b.writeIntBE(Number(n), 0, size);
          return new Uint8Array(b);
        }
      }
      throw new Lwm2mFormatError(`integer ${value} does not fit 64 bits`);
    }
  }
}

export function bytesValue(bytes: Uint8Array, type: ResourceType): Value {
  const b = Buffer.from(bytes);
  switch (type) {
    case 'string':
      return b.toString('utf8');
    case 'opaque':
      return new Uint8Array(b);
    case 'boolean':
      if (b.length !== 1 || b[0]! > 1) throw new Lwm2mFormatError('a TLV boolean is one byte, 0 or 1');
      return b[0] === 1;
    case 'float':
      if (b.length === 4) return b.readFloatBE();
      if (b.length === 8) return b.readDoubleBE();
      throw new Lwm2mFormatError(`a TLV float is 4 or 8 bytes, not ${b.length}`);
    case 'objlnk':
      if (b.length !== 4) throw new Lwm2mFormatError('a TLV object link is 4 bytes');
      return { objectId: b.readUInt16BE(0), instanceId: b.readUInt16BE(2) };
    default:
      if (![1, 2, 4, 8].includes(b.length)) throw new Lwm2mFormatError(`a TLV integer is 1, 2, 4 or 8 bytes, not ${b.length}`);
      return b.length === 8 ? Number(b.readBigInt64BE()) : b.readIntBE(0, b.length);
  }
}

/** Flattens TLV under an object instance (or a resource) into resource values. */
export function tlvToValues(
  entries: readonly TlvEntry[],
  objectId: number,
  instanceId: number | undefined,
  typeOf: (resourceId: number) => ResourceType,
): ResourceValue[] {
  const out: ResourceValue[] = [];
  for (const e of entries) {
    if (e.kind === KIND.ObjectInstance) out.push(...tlvToValues(e.children ?? [], objectId, e.id, typeOf));
    else if (e.kind === KIND.MultipleResource) {
      for (const c of e.children ?? []) {
        // a multiple resource holds resource instances, each a value (not nested TLV)
        if (c.kind !== KIND.ResourceInstance || c.value === undefined)
          throw new Lwm2mFormatError(`multiple resource ${e.id} holds an entry that is not a resource instance`);
        out.push({
          path: { objectId, ...(instanceId !== undefined ? { instanceId } : {}), resourceId: e.id, resourceInstanceId: c.id },
          value: bytesValue(c.value, typeOf(e.id)),
        });
      }
    } else if (e.kind === KIND.Resource) {
      out.push({
        path: { objectId, ...(instanceId !== undefined ? { instanceId } : {}), resourceId: e.id },
        value: bytesValue(e.value!, typeOf(e.id)),
      });
    } else {
      throw new Lwm2mFormatError('a resource instance TLV outside a multiple resource');
    }
  }
  return out;
}

/** Resource values of one object instance as TLV (resources, multiple resources grouped); typed by the model, else by the value. */
export function valuesToTlv(values: readonly ResourceValue[], typeOf: (resourceId: number, value: Value) => ResourceType): Uint8Array {
  const byRes = new Map<number, ResourceValue[]>();
  for (const v of values) byRes.set(v.path.resourceId!, [...(byRes.get(v.path.resourceId!) ?? []), v]);
  const entries: TlvEntry[] = [];
  for (const [rid, vs] of byRes) {
    if (vs.some((v) => v.path.resourceInstanceId !== undefined)) {
      entries.push({
        kind: 2,
        id: rid,
        children: vs.map((v) => ({
          kind: 1 as const,
          id: v.path.resourceInstanceId ?? 0,
          value: valueBytes(v.value, typeOf(rid, v.value)),
        })),
      });
    } else {
      entries.push({ kind: 3, id: rid, value: valueBytes(vs[0]!.value, typeOf(rid, vs[0]!.value)) });
    }
  }
  return encodeTlv(entries);
}
