// Values ↔ payloads by content format; what a request asks for and what a device may answer with.
import { ContentFormat, Lwm2mFormatError, type Path, type ResourceValue } from './model.ts';
import { resourceDef, typeOf } from './objects.ts';
import { decodeSenml, encodeSenml } from './senml.ts';
import { decodeText, encodeText } from './text.ts';
import { decodeTlv, tlvToValues, valuesToTlv } from './tlv.ts';

const senmlType = (o: number, r: number) => typeOf(o)(r);

export function decodePayload(format: number, bytes: Uint8Array, path: Path): ResourceValue[] {
  switch (format) {
    case ContentFormat.Tlv:
    case ContentFormat.LwTlvOld: {
      const entries = decodeTlv(bytes);
      return tlvToValues(entries, path.objectId, path.instanceId, typeOf(path.objectId));
    }
    case ContentFormat.SenmlJson:
      return decodeSenml(bytes, senmlType);
    case ContentFormat.Text:
    case ContentFormat.Opaque: {
      if (path.resourceId === undefined) throw new Lwm2mFormatError('text/plain carries one resource only');
      const type = format === ContentFormat.Opaque ? 'opaque' : typeOf(path.objectId)(path.resourceId);
      return [{ path, value: format === ContentFormat.Opaque ? new Uint8Array(bytes) : decodeText(bytes, type) }];
    }
    default:
      throw new Lwm2mFormatError(`content format ${format} is not supported (text 0, TLV 11542, SenML JSON 110)`);
  }
}

export function encodePayload(format: number, values: readonly ResourceValue[]): Uint8Array {
  switch (format) {
    case ContentFormat.Tlv: {
      const objectId = values[0]?.path.objectId ?? 0;
      return valuesToTlv(values, typeOf(objectId));
    }
    case ContentFormat.SenmlJson:
      return encodeSenml(values, senmlType);
    case ContentFormat.Text:
      if (values.length !== 1) throw new Lwm2mFormatError('text/plain carries one value');
      return encodeText(values[0]!.value);
    default:
      throw new Lwm2mFormatError(`content format ${format} is not supported for writing`);
  }
}

/** text for a single resource (what most devices accept), TLV otherwise. */
export function writeFormat(path: Path): number {
  if (path.resourceId !== undefined && resourceDef(path.objectId, path.resourceId)?.multiple !== true) return ContentFormat.Text;
  return ContentFormat.Tlv;
}
