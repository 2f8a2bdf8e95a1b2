// One DM command as LwM2M requests to a device, in the content formats it speaks (formats.ts):
// a device that refuses a format (4.06, 4.15) is asked once more in the next one, and the refusal
// is remembered for its registration. Values keep their types both ways (docs/lwm2m.md).
import type { DriverCommand, DriverResult } from '../driver.ts';
import { decodePayload, encodePayload } from './codec.ts';
import { inDeviceFormats } from './formats.ts';
import { ContentFormat, Lwm2mFormatError, type Path, pathText, type ResourceType, type ResourceValue, type Value } from './model.ts';
import { dmFormat, resourceDef, typeOf, typeOfValue } from './objects.ts';
import type { CoapAnswer, Lwm2mServer } from './server.ts';
import { decodeText } from './text.ts';
import { decodeTlv, encodeTlv } from './tlv.ts';

/** CoAP response code → DM status. */
export function dmStatus(code: string): number {
  if (code.startsWith('2.')) return 200;
  const map: Record<string, number> = {
    '4.00': 400,
    '4.01': 401,
    '4.03': 403,
    '4.04': 404,
    '4.05': 405,
    '4.06': 406,
    '4.08': 412,
    '4.13': 413,
    '4.15': 415,
  };
  return map[code] ?? 500;
}

/** DM Format → the LwM2M type of a value the model does not type. */
const BY_DM_FORMAT: Record<string, ResourceType> = {
  int: 'integer',
  float: 'float',
  bool: 'boolean',
  b64: 'opaque',
  bin: 'opaque',
  chr: 'string',
};

/** A DM item's data as a value of the resource's type (the model's, else the item's Format). */
export function toValue(data: string | Uint8Array | undefined, path: Path, dmFormatName?: string): Value {
  const known = path.resourceId !== undefined ? resourceDef(path.objectId, path.resourceId)?.type : undefined;
  const type = known !== undefined && known !== 'none' ? known : (BY_DM_FORMAT[dmFormatName ?? 'chr'] ?? 'string');
  if (data instanceof Uint8Array) return type === 'opaque' ? data : Buffer.from(data).toString('utf8');
  const text = data ?? '';
  if (type === 'boolean') {
    if (!['true', 'false', '1', '0'].includes(text))
      throw new Lwm2mFormatError(`"${text.slice(0, 20)}" is not a boolean (true, false, 1, 0)`);
    return text === 'true' || text === '1';
  }
  return decodeText(new TextEncoder().encode(text), type);
}

/** Values in the DM Data of a command: SenML JSON (what a Get of several values gives back). */
function dataValues(c: DriverCommand, path: Path): ResourceValue[] | undefined {
  const text = c.data instanceof Uint8Array ? Buffer.from(c.data).toString('utf8') : c.data;
  if (typeof text !== 'string' || !text.trimStart().startsWith('[')) return undefined;
  return decodePayload(ContentFormat.SenmlJson, new TextEncoder().encode(text), path);
}

/** A single value: DM Format from the model's type, else from the value the device gave. */
function resultOf(values: readonly ResourceValue[], path: Path): DriverResult {
  const single =
    path.resourceId !== undefined &&
    values.length === 1 &&
    (path.resourceInstanceId !== undefined || resourceDef(path.objectId, path.resourceId)?.multiple !== true);
  if (single) {
    const v = values[0]!;
    const known = resourceDef(v.path.objectId, v.path.resourceId!)?.type;
    const type: ResourceType =
      typeof v.value === 'string'
        ? typeOf(v.path.objectId)(v.path.resourceId!)
        : typeof v.value === 'number' && (known === 'integer' || known === 'unsigned' || known === 'time' || known === 'float')
          ? known
          : typeOfValue(v.value);
    const data =
      v.value instanceof Uint8Array ? v.value : typeof v.value === 'object' ? `${v.value.objectId}:${v.value.instanceId}` : String(v.value);
    return { status: 200, data, format: dmFormat(type) };
  }
  // several values: their SenML JSON, which keeps paths and types
  return { status: 200, data: Buffer.from(encodePayload(ContentFormat.SenmlJson, values)).toString('utf8'), format: 'chr' };
}

export async function runCommand(
  lwm2m: Lwm2mServer,
  ep: string,
  c: DriverCommand,
  path: Path,
  discover: boolean,
  timeoutMs?: number,
): Promise<DriverResult> {
  // every exchange of the command ends with the driver's deadline (a dead device is not retried past it)
  const server = {
    request: (...[e, m, p, body, accept]: Parameters<Lwm2mServer['request']>) => lwm2m.request(e, m, p, body, accept, timeoutMs),
  };
  const reg = lwm2m.registration(ep);
  if (!reg) throw new Error(`${ep} is not registered`);
  const inFormats = (target: Path, send: (format: number) => Promise<CoapAnswer>, opaque = false) =>
    inDeviceFormats(reg.formats, target, send, opaque);
  switch (c.kind) {
    case 'Get': {
      if (discover) {
        const a = await server.request(ep, 'GET', path, undefined, ContentFormat.LinkFormat);
        return {
          status: dmStatus(a.code),
          ...(a.code.startsWith('2.') ? { data: Buffer.from(a.payload).toString('utf8'), format: 'chr' } : {}),
        };
      }
      const { a, format } = await inFormats(path, (f) => server.request(ep, 'GET', path, undefined, f));
      if (!a.code.startsWith('2.')) return { status: dmStatus(a.code) };
      const values = decodePayload(a.format ?? format, a.payload, path);
      // an Execute-only resource has no value: a client that puts a placeholder there in an
      // instance or object Read (coap-node: "_unreadable_") is read as if it had left it out
      const readable =
        path.resourceId === undefined
          ? values.filter((v) => v.path.resourceId === undefined || resourceDef(v.path.objectId, v.path.resourceId)?.type !== 'none')
          : values;
      return resultOf(readable, path);
    }
    case 'Replace': {
      if (path.resourceId === undefined) {
        // an instance is replaced with all its resources: they come as SenML JSON in Data
        const values = dataValues(c, path);
        if (!values)
          throw new Lwm2mFormatError(
            `Replace on ${pathText(path)} needs its resources as SenML JSON in Data ([{"n":"${pathText(path)}/<resource>","v":…}])`,
          );
        if (
          values.some((v) => v.path.objectId !== path.objectId || (path.instanceId !== undefined && v.path.instanceId !== path.instanceId))
        )
          throw new Lwm2mFormatError(`SenML in Data names resources outside ${pathText(path)}`);
        return {
          status: dmStatus(
            (await inFormats(path, (f) => server.request(ep, 'PUT', path, { format: f, payload: encodePayload(f, values) }))).a.code,
          ),
        };
      }
      const value = toValue(c.data, path, c.format);
      const { a } = await inFormats(
        path,
        (f) => server.request(ep, 'PUT', path, { format: f, payload: encodePayload(f, [{ path, value }]) }),
        value instanceof Uint8Array,
      );
      return { status: dmStatus(a.code) };
    }
    case 'Add': {
      if (path.resourceId !== undefined) {
        // a resource of an existing instance: Write (partial update) on the instance
        const instance = { objectId: path.objectId, instanceId: path.instanceId ?? 0 };
        const values = [{ path, value: toValue(c.data, path, c.format) }];
        return {
          status: dmStatus(
            (await inFormats(instance, (f) => server.request(ep, 'POST', instance, { format: f, payload: encodePayload(f, values) }))).a
              .code,
          ),
        };
      }
      // Create: POST on the object; the instance id, when given (target or Data), travels in the payload
      const given = dataValues(c, path) ?? [];
      const instanceId = path.instanceId ?? given[0]?.path.instanceId;
      const values = instanceId === undefined ? given : given.map((v) => ({ ...v, path: { ...v.path, instanceId } }));
      const object = { objectId: path.objectId };
      const payload = (f: number): Uint8Array => {
        const bytes = encodePayload(f, values);
        return f === ContentFormat.Tlv && instanceId !== undefined
          ? encodeTlv([{ kind: 0, id: instanceId, children: decodeTlv(bytes) }])
          : bytes;
      };
      return {
        status: dmStatus((await inFormats(object, (f) => server.request(ep, 'POST', object, { format: f, payload: payload(f) }))).a.code),
      };
    }
    case 'Delete':
      return { status: dmStatus((await server.request(ep, 'DELETE', path)).code) };
    case 'Exec': {
      const payload = typeof c.data === 'string' ? new TextEncoder().encode(c.data) : c.data;
      const a = await server.request(ep, 'POST', path, payload && payload.length > 0 ? { format: ContentFormat.Text, payload } : undefined);
      return { status: dmStatus(a.code) };
    }
    default:
      return { status: 406 };
  }
}
