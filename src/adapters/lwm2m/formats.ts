// Which content format to speak with a device: what it announced at Register (`</>;ct=110` or
// `ct="60 110 112"`, LwM2M 1.1 TS §6.2.1), its LwM2M version, and what it refused since.
import { VALUE_FORMATS } from './codec.ts';
import type { Link } from './link.ts';
import { ContentFormat, type Path } from './model.ts';
import { resourceDef } from './objects.ts';

/** A device's formats as the gateway knows them; `refused` grows when it answers 4.06 or 4.15. */
export interface DeviceFormats {
  /** value formats it announced (ct on the root link); empty when it announced none */
  readonly announced: readonly number[];
  readonly version: string;
  readonly refused: Set<number>;
}

/** Multi-value formats, best first: compact SenML CBOR, then SenML JSON, then TLV. */
const PREFERENCE = [ContentFormat.SenmlCbor, ContentFormat.SenmlJson, ContentFormat.Tlv, ContentFormat.LwTlvOld];

export function announcedFormats(links: readonly Link[]): number[] {
  const ct = links.find((l) => l.path.objectId < 0)?.attributes['ct'];
  if (ct === undefined) return [];
  return ct
    .split(/[\s,]+/)
    .filter((s) => /^\d{1,5}$/.test(s))
    .map(Number)
    .filter((f) => VALUE_FORMATS.includes(f) || f === ContentFormat.LwTlvOld);
}

const atLeast11 = (version: string): boolean => {
  const [major, minor] = version.split('.').map(Number);
  return (major ?? 1) > 1 || (minor ?? 0) >= 1;
};

/** Formats for several values (an instance, an object, a multiple resource), best first. */
function multiFormats(d: DeviceFormats): number[] {
  const announced = PREFERENCE.filter((f) => d.announced.includes(f));
  if (announced.length > 0) return announced;
  // nothing announced: TLV is what 1.0 mandates and most 1.1 clients keep; a 1.1+ device refusing it is tried in SenML
  return atLeast11(d.version) ? [ContentFormat.Tlv, ContentFormat.SenmlCbor, ContentFormat.SenmlJson] : [ContentFormat.Tlv];
}

/**
 * The formats to try for a request on `path`, best first, leaving out those the device refused
 * (unless it refused them all). A single resource goes as text (opaque for opaque resources), one
 * no model types in SenML when the device announced it.
 */
export function candidateFormats(d: DeviceFormats, path: Path, opaque = false): number[] {
  const single =
    path.resourceId !== undefined &&
    (path.resourceInstanceId !== undefined || resourceDef(path.objectId, path.resourceId)?.multiple !== true);
  const def = path.resourceId !== undefined ? resourceDef(path.objectId, path.resourceId) : undefined;
  const opaqueResource = opaque || def?.type === 'opaque';
  // text and TLV carry no type: a resource no model types goes in a SenML format the device announced, which does
  const senml: number[] =
    single && def === undefined ? d.announced.filter((f) => f === ContentFormat.SenmlCbor || f === ContentFormat.SenmlJson) : [];
  const all = [
    ...PREFERENCE.filter((f) => senml.includes(f)),
    ...(single ? [opaqueResource ? ContentFormat.Opaque : ContentFormat.Text] : []),
    ...multiFormats(d).filter((f) => !senml.includes(f)),
  ];
  const left = all.filter((f) => !d.refused.has(f));
  return left.length > 0 ? left : all;
}

/** 4.06 Not Acceptable, 4.15 Unsupported Content-Format: the device does not speak that format. */
export const refusesFormat = (code: string): boolean => code === '4.06' || code === '4.15';

/**
 * The request in each candidate format until one is not refused (one retry); the refusal is kept
 * for the registration. Read, Write, Create and Observe all go through it.
 */
export async function inDeviceFormats<A extends { readonly code: string }>(
  d: DeviceFormats,
  target: Path,
  send: (format: number) => Promise<A>,
  opaque = false,
): Promise<{ a: A; format: number }> {
  const formats = candidateFormats(d, target, opaque).slice(0, 2);
  let last: { a: A; format: number } | undefined;
  for (const format of formats) {
    last = { a: await send(format), format };
    if (!refusesFormat(last.a.code)) return last;
    d.refused.add(format);
  }
  return last!;
}
