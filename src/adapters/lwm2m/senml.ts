// SenML (RFC 8428) as LwM2M 1.1 uses it: bn/n give the path, v/vs/vb/vd/vlo the value. Records
// are the same for SenML JSON (here) and SenML CBOR (senml-cbor.ts); only the encoding differs.
import { Lwm2mFormatError, parsePath, pathText, type ResourceType, type ResourceValue, type Value } from './model.ts';

/** One SenML record; vd holds the bytes (base64url only on the JSON wire). */
export interface SenmlRecord {
  bn?: string;
  n?: string;
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  vd?: Uint8Array;
  vlo?: string;
}

type TypeOf = (objectId: number, resourceId: number) => ResourceType | undefined;

export function recordsToValues(records: readonly SenmlRecord[], typeOf: TypeOf): ResourceValue[] {
  let base = '';
  const out: ResourceValue[] = [];
  for (const r of records) {
    if (r === null || typeof r !== 'object') throw new Lwm2mFormatError('a SenML record is not an object');
    if (typeof r.bn === 'string') base = r.bn;
    const name = base + (typeof r.n === 'string' ? r.n : '');
    const path = parsePath(name);
    if (!path || path.resourceId === undefined) throw new Lwm2mFormatError(`SenML name ${name.slice(0, 60)} is not a resource path`);
    let value: Value;
    if (typeof r.vs === 'string') value = r.vs;
    else if (typeof r.vb === 'boolean') value = r.vb;
    else if (r.vd instanceof Uint8Array) value = r.vd;
    else if (typeof r.vlo === 'string') {
      const m = /^(\d{1,5}):(\d{1,5})$/.exec(r.vlo);
      if (!m) throw new Lwm2mFormatError(`SenML vlo "${r.vlo.slice(0, 20)}" is not <object>:<instance>`);
      value = { objectId: Number(m[1]), instanceId: Number(m[2]) };
    } else if (typeof r.v === 'number') value = r.v;
    else throw new Lwm2mFormatError(`SenML record ${pathText(path)} has no value`);
    // the device's type wins; only a string for an opaque resource becomes bytes
    if (typeOf(path.objectId, path.resourceId) === 'opaque' && typeof value === 'string') value = new TextEncoder().encode(value);
    out.push({ path, value });
  }
  return out;
}

/** Each value in the field of its own type; a string goes as a number/boolean only where the model says so. */
export function valuesToRecords(values: readonly ResourceValue[], typeOf: TypeOf): SenmlRecord[] {
  return values.map((rv, i) => {
    const t = typeOf(rv.path.objectId, rv.path.resourceId ?? 0);
    const v = rv.value;
    const rec: SenmlRecord = i === 0 ? { bn: '', n: pathText(rv.path) } : { n: pathText(rv.path) };
    if (v instanceof Uint8Array) rec.vd = v;
    else if (typeof v === 'boolean') rec.vb = v;
    else if (typeof v === 'number') rec.v = v;
    else if (typeof v === 'object') rec.vlo = `${v.objectId}:${v.instanceId}`;
    else if ((t === 'integer' || t === 'unsigned' || t === 'float' || t === 'time') && v.trim() !== '' && Number.isFinite(Number(v)))
      rec.v = Number(v);
    else if (t === 'boolean' && ['0', '1', 'true', 'false'].includes(v)) rec.vb = v === '1' || v === 'true';
    else rec.vs = v;
    return rec;
  });
}

export function decodeSenml(bytes: Uint8Array, typeOf: TypeOf): ResourceValue[] {
  let records: unknown;
  try {
    records = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Lwm2mFormatError('SenML JSON payload is not JSON');
  }
  if (!Array.isArray(records)) throw new Lwm2mFormatError('SenML JSON payload is not an array');
  return recordsToValues(
    records.map((r: unknown) => {
      if (r === null || typeof r !== 'object') throw new Lwm2mFormatError('a SenML record is not an object');
      const { vd, ...rest } = r as Record<string, unknown>;
      if (vd === undefined) return rest as SenmlRecord;
      if (typeof vd !== 'string') throw new Lwm2mFormatError('SenML vd is not a base64url string');
      return { ...rest, vd: new Uint8Array(Buffer.from(vd, 'base64url')) } as SenmlRecord;
    }),
    typeOf,
  );
}

export function encodeSenml(values: readonly ResourceValue[], typeOf: TypeOf): Uint8Array {
  const records = valuesToRecords(values, typeOf).map(({ vd, ...rest }) =>
    vd ? { ...rest, vd: Buffer.from(vd).toString('base64url') } : rest,
  );
  return new TextEncoder().encode(JSON.stringify(records));
}
