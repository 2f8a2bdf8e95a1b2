// Adaptation mode for LwM2M: DM commands from a fanout become LwM2M operations on the device.
//   Get → Read (Discover for "?list=Struct"), Replace → Write (replace), Add → Create on an
//   object/instance or a partial-update Write on a resource, Delete → Delete, Exec → Execute.
import type { DriverCommand, DriverContext, DriverResult, EndDeviceDriver } from '../driver.ts';
import { decodePayload, encodePayload, writeFormat } from './codec.ts';
import { CoapExchangeError, CoapExchangeErrorCode } from './errors.ts';
import { ContentFormat, Lwm2mFormatError, type Path, type ResourceValue, type Value } from './model.ts';
import { dmFormat, resourceDef, typeOf } from './objects.ts';
import { lwm2mPath } from './paths.ts';
import type { CoapAnswer, Lwm2mServer } from './server.ts';
import { decodeText } from './text.ts';
import { decodeTlv, encodeTlv } from './tlv.ts';

/** CoAP response code → DM status. */
export function dmStatus(code: string): number {
  if (code.startsWith('2.')) return 200;
  const map: Record<string, number> = { '4.00': 400, '4.01': 401, '4.03': 403, '4.04': 404, '4.05': 405, '4.06': 406, '4.08': 412, '4.13': 413, '4.15': 415 };
  return map[code] ?? 500;
}

function toValue(data: string | Uint8Array | undefined, path: Path): Value {
  const type = path.resourceId !== undefined ? typeOf(path.objectId)(path.resourceId) : 'string';
  if (data instanceof Uint8Array) return type === 'opaque' ? data : Buffer.from(data).toString('utf8');
  const text = data ?? '';
  if (type === 'boolean') return text === 'true' || text === '1';
  return decodeText(new TextEncoder().encode(text === 'true' ? '1' : text === 'false' ? '0' : text), type);
}

/** A request that never reached the device is answered at once, with its reason; a timeout is retried. */
function refusedStatus(err: CoapExchangeError): number | undefined {
  switch (err.code) {
    case CoapExchangeErrorCode.TooLarge: return 413;
    case CoapExchangeErrorCode.SendFailed: return 500;
    case CoapExchangeErrorCode.Stopped: return 503;
    case CoapExchangeErrorCode.NotRegistered: return 410;
    case CoapExchangeErrorCode.Timeout: return undefined;
    default: return 500;
  }
}

export class Lwm2mDriver implements EndDeviceDriver {
  readonly protocol = 'LwM2M';
  private readonly server: Lwm2mServer;

  constructor(server: Lwm2mServer) {
    this.server = server;
  }

  async execute(deviceId: string, commands: readonly DriverCommand[], ctx: DriverContext): Promise<DriverResult[]> {
    const out: DriverResult[] = [];
    // the fanout's per-device time covers every command, and the wait for a sleeping device
    const deadline = Date.now() + ctx.timeoutMs;
    for (const c of commands) {
      if (ctx.cancelled()) break;
      out.push(await this.one(deviceId, c, ctx, deadline));
    }
    return out;
  }

  private async one(endpoint: string, c: DriverCommand, ctx: DriverContext, deadline: number): Promise<DriverResult> {
    const discover = c.target.endsWith('?list=Struct');
    const path = lwm2mPath(c.target.replace(/\?list=Struct$/, ''));
    if (!path) return { status: 404 };
    for (let attempt = 0; ; attempt++) {
      try {
        const left = deadline - Date.now();
        if (left <= 0) return { status: 408 };
        return await this.send(endpoint, c, path, discover, left);
      } catch (err) {
        if (err instanceof Lwm2mFormatError) return { status: 400, data: err.message, format: 'chr' };
        const refused = err instanceof CoapExchangeError ? refusedStatus(err) : undefined;
        if (refused) return { status: refused, data: err instanceof Error ? err.message : String(err), format: 'chr' };
        if (attempt >= ctx.retries || ctx.cancelled()) return { status: 408 };
      }
    }
  }

  private async send(ep: string, c: DriverCommand, path: Path, discover: boolean, timeoutMs: number): Promise<DriverResult> {
    let a: CoapAnswer;
    const server = this.server;
    const request: Lwm2mServer['request'] = (e, m, p, body, accept) => server.request(e, m, p, body, accept, timeoutMs);
    switch (c.kind) {
      case 'Get': {
        if (discover) {
          a = await request(ep, 'GET', path, undefined, ContentFormat.LinkFormat);
          return { status: dmStatus(a.code), ...(a.code.startsWith('2.') ? { data: Buffer.from(a.payload).toString('utf8'), format: 'chr' } : {}) };
        }
        const single = path.resourceId !== undefined && resourceDef(path.objectId, path.resourceId)?.multiple !== true;
        a = await request(ep, 'GET', path, undefined, single ? ContentFormat.Text : ContentFormat.SenmlJson);
        if (!a.code.startsWith('2.')) return { status: dmStatus(a.code) };
        const values = decodePayload(a.format ?? (single ? ContentFormat.Text : ContentFormat.Tlv), a.payload, path);
        return this.resultOf(values, single);
      }
      case 'Replace': {
        const format = writeFormat(path);
        a = await request(ep, 'PUT', path, { format, payload: encodePayload(format, [{ path, value: toValue(c.data, path) }]) });
        return { status: dmStatus(a.code) };
      }
      case 'Add': {
        if (path.resourceId !== undefined) {
          // a resource of an existing instance: Write (partial update) on the instance
          const instance = { objectId: path.objectId, instanceId: path.instanceId ?? 0 };
          a = await request(ep, 'POST', instance, { format: ContentFormat.Tlv, payload: encodePayload(ContentFormat.Tlv, [{ path, value: toValue(c.data, path) }]) });
          return { status: dmStatus(a.code) };
        }
        // Create: POST on the object; the instance id, when given, travels in the TLV
        const values: ResourceValue[] = typeof c.data === 'string' && c.data.startsWith('[') ? decodePayload(ContentFormat.SenmlJson, new TextEncoder().encode(c.data), path) : [];
        const resources = encodePayload(ContentFormat.Tlv, values);
        const tlv = path.instanceId !== undefined ? encodeTlv([{ kind: 0, id: path.instanceId, children: decodeTlv(resources) }]) : resources;
        a = await request(ep, 'POST', { objectId: path.objectId }, { format: ContentFormat.Tlv, payload: tlv });
        return { status: dmStatus(a.code) };
      }
      case 'Delete':
        a = await request(ep, 'DELETE', path);
        return { status: dmStatus(a.code) };
      case 'Exec': {
        const payload = typeof c.data === 'string' ? new TextEncoder().encode(c.data) : c.data;
        a = await request(ep, 'POST', path, payload && payload.length > 0 ? { format: ContentFormat.Text, payload } : undefined);
        return { status: dmStatus(a.code) };
      }
      default:
        return { status: 406 };
    }
  }

  private resultOf(values: readonly ResourceValue[], single: boolean): DriverResult {
    if (single && values.length === 1) {
      const v = values[0]!;
      const type = typeOf(v.path.objectId)(v.path.resourceId!);
      const data = v.value instanceof Uint8Array ? v.value : typeof v.value === 'object' ? `${v.value.objectId}:${v.value.instanceId}` : String(v.value);
      return { status: 200, data, format: dmFormat(type) };
    }
    // several values: their SenML JSON, which keeps paths and types
    return { status: 200, data: Buffer.from(encodePayload(ContentFormat.SenmlJson, values)).toString('utf8'), format: 'chr' };
  }
}

