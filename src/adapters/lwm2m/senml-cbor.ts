// SenML CBOR (RFC 8428 §6, content format 112): the records of senml.ts with the RFC's integer
// labels (bn -2, n 0, u 1, v 2, vs 3, vb 4, vd 8; LwM2M's vlo keeps its text label). CBOR itself
// is the cbor package's.
import cbor from 'cbor';

import { Lwm2mFormatError, type ResourceType, type ResourceValue } from './model.ts';
import { recordsToValues, type SenmlRecord, valuesToRecords } from './senml.ts';

const LABELS: readonly [keyof SenmlRecord, number | string][] = [
  ['bn', -2],
  ['n', 0],
  ['u', 1],
  ['v', 2],
  ['vs', 3],
  ['vb', 4],
  ['vd', 8],
  ['vlo', 'vlo'],
];
const BY_LABEL = new Map<unknown, keyof SenmlRecord>(LABELS.map(([k, l]) => [l, k]));

type TypeOf = (objectId: number, resourceId: number) => ResourceType | undefined;

export function encodeCborRecords(records: readonly SenmlRecord[]): Uint8Array {
  const maps = records.map(
    (r) => new Map(LABELS.filter(([k]) => r[k] !== undefined).map(([k, l]) => [l, k === 'vd' ? Buffer.from(r.vd!) : r[k]])),
  );
  return new Uint8Array(cbor.encode(maps));
}

export function decodeCborRecords(bytes: Uint8Array): SenmlRecord[] {
  let data: unknown;
  try {
    data = cbor.decodeFirstSync(Buffer.from(bytes), { preferMap: true });
  } catch (err) {
    throw new Lwm2mFormatError(`SenML CBOR payload is not CBOR (${(err as Error).message.slice(0, 80)})`);
  }
  if (!Array.isArray(data)) throw new Lwm2mFormatError('SenML CBOR payload is not an array');
  return data.map((m: unknown) => {
    if (!(m instanceof Map)) throw new Lwm2mFormatError('a SenML CBOR record is not a map');
    const r: Record<string, unknown> = {};
    // labels SenML does not define here (time, sum, unknown ones) are passed over, as RFC 8428 allows for base fields we do not use
    for (const [label, value] of m) {
      const key = BY_LABEL.get(label);
      if (key)
        r[key] = key === 'vd' && value instanceof Uint8Array ? new Uint8Array(value) : typeof value === 'bigint' ? Number(value) : value;
    }
    return r as SenmlRecord;
  });
}

export function decodeSenmlCbor(bytes: Uint8Array, typeOf: TypeOf): ResourceValue[] {
  return recordsToValues(decodeCborRecords(bytes), typeOf);
}

export function encodeSenmlCbor(values: readonly ResourceValue[], typeOf: TypeOf): Uint8Array {
  return encodeCborRecords(valuesToRecords(values, typeOf));
}
