// SenML JSON (RFC 8428) as LwM2M 1.1 uses it: bn/n give the path, v/vs/vb/vd/vlo the value.
import { Lwm2mFormatError, parsePath, type ResourceType, type ResourceValue, type Value } from './model.ts';
import { pathText } from './model.ts';

interface Record_ {
  bn?: string;
  n?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  vd?: string;
  vlo?: string;
}

export function decodeSenml(bytes: Uint8Array, typeOf: (objectId: number, resourceId: number) => ResourceType): ResourceValue[] {
  let records: unknown;
  try {
    records = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Lwm2mFormatError('SenML JSON payload is not JSON');
  }
  if (!Array.isArray(records)) throw new Lwm2mFormatError('SenML JSON payload is not an array');
  let base = '';
  const out: ResourceValue[] = [];
  for (const r of records as Record_[]) {
    if (r === null || typeof r !== 'object') throw new Lwm2mFormatError('a SenML record is not an object');
    if (typeof r.bn === 'string') base = r.bn;
    const path = parsePath(base + (r.n ?? ''));
    if (!path || path.resourceId === undefined) throw new Lwm2mFormatError(`SenML name ${base + (r.n ?? '')} is not a resource path`);
    let value: Value;
    if (r.vs !== undefined) value = r.vs;
    else if (r.vb !== undefined) value = r.vb;
    else if (r.vd !== undefined) value = new Uint8Array(Buffer.from(r.vd, 'base64url'));
    else if (r.vlo !== undefined) {
      const [o, i] = r.vlo.split(':').map(Number);
      value = { objectId: o ?? 0, instanceId: i ?? 0 };
    } else if (typeof r.v === 'number') value = r.v;
    else throw new Lwm2mFormatError(`SenML record ${pathText(path)} has no value`);
    // a string for an opaque resource arrives as vd; keep the model's type where it differs
    if (typeOf(path.objectId, path.resourceId) === 'opaque' && typeof value === 'string') value = new TextEncoder().encode(value);
    out.push({ path, value });
  }
  return out;
}

export function encodeSenml(values: readonly ResourceValue[], typeOf: (objectId: number, resourceId: number) => ResourceType): Uint8Array {
  const records = values.map((rv, i) => {
    const name = pathText(rv.path);
    const t = typeOf(rv.path.objectId, rv.path.resourceId ?? 0);
    const v = rv.value;
    const rec: Record_ = i === 0 ? { bn: '', n: name } : { n: name };
    if (v instanceof Uint8Array) rec.vd = Buffer.from(v).toString('base64url');
    else if (typeof v === 'boolean') rec.vb = v;
    else if (typeof v === 'object') rec.vlo = `${v.objectId}:${v.instanceId}`;
    else if (t === 'string') rec.vs = String(v);
    else rec.v = Number(v);
    return rec;
  });
  return new TextEncoder().encode(JSON.stringify(records));
}
