// Values ↔ payloads by content format; what a request asks for and what a device may answer with.
import { ContentFormat, Lwm2mFormatError, type Path, type ResourceValue } from './model.ts';
import { resourceDef, typeOf, writeTypeOf } from './objects.ts';
import { decodeSenml, encodeSenml } from './senml.ts';
import { decodeSenmlCbor, encodeSenmlCbor } from './senml-cbor.ts';
import { decodeText, encodeText } from './text.ts';
import { decodeTlv, tlvToValues, valuesToTlv } from './tlv.ts';

/** The model's type, or undefined where it has none (SenML then keeps the device's own type). */
const senmlType = (o: number, r: number) => {
  const t = resourceDef(o, r)?.type;
  return t === 'none' ? undefined : t;
};

/** The formats this codec reads and writes for resource values. */
export const VALUE_FORMATS: readonly number[] = [
  ContentFormat.Text,
  ContentFormat.Opaque,
  ContentFormat.Tlv,
  ContentFormat.SenmlJson,
  ContentFormat.SenmlCbor,
];

export function decodePayload(format: number, bytes: Uint8Array, path: Path): ResourceValue[] {
  switch (format) {
    case ContentFormat.Tlv:
    case ContentFormat.LwTlvOld: {
      const entries = decodeTlv(bytes);
      return tlvToValues(entries, path.objectId, path.instanceId, typeOf(path.objectId));
    }
    case ContentFormat.SenmlJson:
      return decodeSenml(bytes, senmlType);
    case ContentFormat.SenmlCbor:
      return decodeSenmlCbor(bytes, senmlType);
    case ContentFormat.Text:
    case ContentFormat.Opaque: {
      if (path.resourceId === undefined) throw new Lwm2mFormatError(`content format ${format} carries one resource only`);
      const type = format === ContentFormat.Opaque ? 'opaque' : typeOf(path.objectId)(path.resourceId);
      return [{ path, value: format === ContentFormat.Opaque ? new Uint8Array(bytes) : decodeText(bytes, type) }];
    }
    default:
      throw new Lwm2mFormatError(
        `content format ${format} is not supported (text 0, opaque 42, TLV 11542, SenML JSON 110, SenML CBOR 112)`,
      );
  }
}

export function encodePayload(format: number, values: readonly ResourceValue[]): Uint8Array {
  switch (format) {
    case ContentFormat.Tlv: {
      const objectId = values[0]?.path.objectId ?? 0;
      return valuesToTlv(values, (rid, value) => writeTypeOf(objectId, rid, value));
    }
    case ContentFormat.SenmlJson:
      return encodeSenml(values, senmlType);
    case ContentFormat.SenmlCbor:
      return encodeSenmlCbor(values, senmlType);
    case ContentFormat.Text:
      if (values.length !== 1) throw new Lwm2mFormatError('text/plain carries one value');
      return encodeText(values[0]!.value);
    case ContentFormat.Opaque: {
      const v = values[0]?.value;
      if (values.length !== 1 || !(v instanceof Uint8Array)) throw new Lwm2mFormatError('opaque carries one opaque value');
      return v;
    }
    default:
      throw new Lwm2mFormatError(`content format ${format} is not supported for writing`);
  }
}
