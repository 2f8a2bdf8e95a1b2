// The server's REST API (described in openapi.ts, served at /api/openapi.json).
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ServerService } from '../server/service.ts';
import { ServiceError } from '../server/service.ts';
import type { DeviceJobRow, DeviceRow, OperationRow } from '../store/server.ts';
import { storeFaultOf } from '../store/health.ts';
import { ApiError, audit, dataView, field, paging, readJson, sendJson, sendStoreFault } from './http-json.ts';
import { openApiDocument } from './openapi.ts';
import { gatewayRoutes } from './gateways.ts';
import { observationRoutes } from './observations.ts';
import { lwm2mCredentialRoutes } from './lwm2m-credentials.ts';
import { distributionRoutes } from './distributions.ts';
import { campaignRoutes } from './campaigns.ts';
import { campaignEventRoutes } from './campaign-events.ts';
import { imageRoutes } from './images.ts';
import type { GatewayService } from '../server/gateways.ts';
import type { DeviceJobs } from '../server/device-jobs.ts';
import type { DevicePatch, NewOperation } from '../server/service.ts';
import { isSecretNode, type SessionTrace } from '../server/trace.ts';
import { profileView } from '../server/session-profile.ts';
import { sessionRoutes } from './sessions.ts';
import { fanoutEventRoutes } from './fanout-events.ts';
import { overviewRoutes } from './overview.ts';
import { alertRoutes } from './alerts.ts';
import { lwm2mObjectRoutes } from './lwm2m-objects.ts';

const NULLABLE = new Set(['serverName', 'serverPassword', 'notifyAddress', 'serverNonce']);

function scheme(v: string): 'basic' | 'md5' | 'hmac' {
  if (v !== 'basic' && v !== 'md5' && v !== 'hmac') throw new ApiError(400, 'scheme must be basic, md5 or hmac');
  return v;
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;

/** A device as the API shows it: never its secrets. */
function deviceView(d: DeviceRow): Record<string, unknown> {
  return {
    deviceId: d.deviceId,
    scheme: d.scheme,
    name: d.clientName,
    serverName: d.serverName ?? null,
    notifyAddress: d.notifyAddress ?? null,
    devInfo: d.devInfo,
    sessionProfile: profileView(d.sessionProfile),
    createdAt: new Date(d.createdAt).toISOString(),
    lastSeen: d.lastSeen ? new Date(d.lastSeen).toISOString() : null,
  };
}

function operationView(op: OperationRow): Record<string, unknown> {
  return {
    id: op.id,
    deviceId: op.deviceId,
    kind: op.kind,
    path: op.target,
    source: op.source ?? null,
    // a secret queued for a device or gateway (a DMAcc password, an LwM2M key) is not read back here
    value: op.data === undefined ? null : isSecretNode(op.target) ? '*****' : dataView(op.data, op.format),
    format: op.format ?? null,
    correlator: op.correlator ?? null,
    retry: op.retry ?? 'never',
    state: op.state,
    status: op.status ?? null,
    results: (op.results ?? []).map((r) => ({
      path: r.uri,
      format: r.format ?? 'chr',
      type: r.type ?? null,
      value: r.data === undefined ? null : dataView(r.data, r.format),
    })),
    note: op.note ?? null,
    createdAt: new Date(op.createdAt).toISOString(),
    updatedAt: new Date(op.updatedAt).toISOString(),
  };
}

/** A device job as the API shows it: times in ISO 8601 like every other answer, bytes as base64. */
function jobView(job: DeviceJobRow): Record<string, unknown> {
  return {
    ...job,
    ...(job.results
      ? { results: job.results.map((r) => ({ ...r, ...(r.data !== undefined ? { data: dataView(r.data, r.format) } : {}) })) }
      : {}),
    createdAt: new Date(job.createdAt).toISOString(),
    updatedAt: new Date(job.updatedAt).toISOString(),
  };
}

export function apiRoutes(
  service: ServerService,
  gateways?: GatewayService,
  jobs?: DeviceJobs,
  trace?: SessionTrace,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const routes: [string, RegExp, Handler][] = [
    // jobs for devices behind gateways, following them from gateway to gateway (HLF-002)
    [
      'POST',
      /^\/api\/devices\/([^/]+)\/jobs$/,
      async (req, res, [id]) => {
        if (!jobs) throw new ApiError(503, 'this server does not run device jobs');
        const b = await readJson(req);
        if (!Array.isArray(b['commands'])) throw new ApiError(400, 'commands must be an array of {"kind","path","value"?}');
        sendJson(res, 202, jobView(await jobs.create(id!, b['commands'] as NewOperation[])));
      },
    ],
    [
      'GET',
      /^\/api\/devices\/([^/]+)\/location$/,
      async (_q, res, [id]) => {
        if (!jobs) throw new ApiError(503, 'this server does not track devices behind gateways');
        const at = await jobs.location(id!);
        sendJson(res, 200, { deviceId: id, gatewayId: at.gatewayId, since: new Date(at.at).toISOString() });
      },
    ],
    [
      'GET',
      /^\/api\/jobs\/([^/]+)$/,
      async (_q, res, [id], url) => {
        if (!jobs) throw new ApiError(503, 'this server does not run device jobs');
        const wait = Number(url.searchParams.get('wait') ?? 0);
        if (!Number.isFinite(wait) || wait < 0 || wait > 120) throw new ApiError(400, 'wait must be 0–120 seconds');
        sendJson(res, 200, jobView(await jobs.settle(id!, wait * 1000)));
      },
    ],
    ...(gateways ? gatewayRoutes(gateways) : []),
    ...(gateways ? imageRoutes(gateways) : []),
    ...(gateways ? distributionRoutes(gateways) : []),
    ...(gateways ? campaignRoutes(gateways) : []),
    ...(gateways ? campaignEventRoutes(gateways) : []),
    ...(gateways ? observationRoutes(gateways) : []),
    ...(gateways ? lwm2mCredentialRoutes(gateways) : []),
    ...(gateways ? fanoutEventRoutes(gateways) : []),
    ...sessionRoutes(trace),
    ...overviewRoutes(service, gateways, trace),
    ...alertRoutes(service),
    ...lwm2mObjectRoutes(),
    ['GET', /^\/api\/openapi\.json$/, async (_q, res) => sendJson(res, 200, openApiDocument)],
    [
      'GET',
      /^\/api\/devices$/,
      async (_q, res, _p, url) => {
        const { limit, offset } = paging(url);
        sendJson(res, 200, { items: (await service.devices(limit, offset)).map(deviceView), limit, offset });
      },
    ],
    [
      'POST',
      /^\/api\/devices$/,
      async (req, res) => {
        const b = await readJson(req);
        const opt = (name: string) => field(b, name, 'string');
        const d = await service.addDevice({
          deviceId: field(b, 'deviceId', 'string', true)!,
          name: field(b, 'name', 'string', true)!,
          password: field(b, 'password', 'string', true)!,
          ...(opt('scheme') !== undefined ? { scheme: scheme(opt('scheme')!) } : {}),
          ...(opt('serverName') !== undefined ? { serverName: opt('serverName')! } : {}),
          ...(opt('serverPassword') !== undefined ? { serverPassword: opt('serverPassword')! } : {}),
          ...(opt('notifyAddress') !== undefined ? { notifyAddress: opt('notifyAddress')! } : {}),
          ...(opt('serverNonce') !== undefined ? { serverNonce: opt('serverNonce')! } : {}),
          ...(b['sessionProfile'] !== undefined ? { sessionProfile: b['sessionProfile'] } : {}),
        });
        sendJson(res, 201, deviceView(d));
      },
    ],
    [
      'PATCH',
      /^\/api\/devices\/([^/]+)$/,
      async (req, res, [id]) => {
        const b = await readJson(req);
        for (const [k, v] of Object.entries(b)) {
          if (k === 'sessionProfile') continue; // an object, checked by the service
          if (v !== null && typeof v !== 'string') throw new ApiError(400, `${k} must be a string${NULLABLE.has(k) ? ' or null' : ''}`);
          if (v === null && !NULLABLE.has(k))
            throw new ApiError(
              400,
              `${k} cannot be cleared (null): only serverName with serverPassword, notifyAddress and serverNonce can`,
            );
        }
        const { device, changed } = await service.updateDevice(id!, {
          ...b,
          ...(typeof b['scheme'] === 'string' ? { scheme: scheme(b['scheme']) } : {}),
        } as DevicePatch);
        audit(res, { deviceId: id, fields: changed });
        sendJson(res, 200, deviceView(device));
      },
    ],
    [
      'GET',
      /^\/api\/devices\/([^/]+)$/,
      async (_q, res, [id]) => {
        const d = await service.device(id!);
        const auth = await service.authState?.(d.deviceId);
        sendJson(res, 200, {
          ...deviceView(d),
          notifyProblem: service.notifyWatch.reason(d.deviceId, d.lastSeen) ?? null,
          ...(auth
            ? { authFailures: auth.failures, authLockedUntil: auth.lockedUntil ? new Date(auth.lockedUntil).toISOString() : null }
            : {}),
        });
      },
    ],
    [
      'DELETE',
      /^\/api\/devices\/([^/]+)$/,
      async (_q, res, [id]) => {
        await service.removeDevice(id!);
        res.writeHead(204).end();
      },
    ],
    [
      'GET',
      /^\/api\/devices\/([^/]+)\/operations$/,
      async (_q, res, [id], url) => {
        const { limit, offset } = paging(url);
        const state = url.searchParams.get('state') ?? undefined;
        sendJson(res, 200, { items: (await service.operations(id!, limit, offset, state)).map(operationView), limit, offset });
      },
    ],
    [
      'POST',
      /^\/api\/devices\/([^/]+)\/operations$/,
      async (req, res, [id]) => {
        const b = await readJson(req);
        const opt = (name: string) => field(b, name, 'string');
        const op = await service.queue(id!, {
          kind: field(b, 'kind', 'string', true) as OperationRow['kind'],
          path: field(b, 'path', 'string', true)!,
          ...(opt('value') !== undefined ? { value: opt('value')! } : {}),
          ...(opt('format') !== undefined ? { format: opt('format')! } : {}),
          ...(opt('type') !== undefined ? { type: opt('type')! } : {}),
          ...(opt('source') !== undefined ? { source: opt('source')! } : {}),
          ...(opt('correlator') !== undefined ? { correlator: opt('correlator')! } : {}),
          ...(opt('retry') !== undefined ? { retry: opt('retry') as NonNullable<NewOperation['retry']> } : {}),
        });
        sendJson(res, 201, operationView(op));
      },
    ],
    [
      'POST',
      /^\/api\/operations\/([^/]+)\/resolve$/,
      async (req, res, [id]) => {
        // an operation in doubt: {"resolution":"retry"|"failed"|"done","reason"?}
        const b = await readJson(req);
        const op = await service.resolve(id!, field(b, 'resolution', 'string', true), field(b, 'reason', 'string') ?? '');
        sendJson(res, 200, operationView(op));
      },
    ],
    [
      'GET',
      /^\/api\/operations\/([^/]+)$/,
      async (_q, res, [id], url) => {
        // ?wait=<s>: answer once the operation has an outcome (or the wait is over)
        const wait = Number(url.searchParams.get('wait') ?? 0);
        if (!Number.isFinite(wait) || wait < 0 || wait > 120) throw new ApiError(400, 'wait must be 0–120 seconds');
        const op = await service.operation(id!);
        sendJson(res, 200, operationView(wait > 0 ? (await service.settle([op.id], wait * 1000))[0]! : op));
      },
    ],
    [
      'POST',
      /^\/api\/devices\/([^/]+)\/notify$/,
      async (req, res, [id]) => {
        const b =
          req.headers['content-length'] === '0' || (req.headers['content-length'] === undefined && !req.headers['content-type'])
            ? {}
            : await readJson(req);
        const ui = field(b, 'uiMode', 'number') ?? 0;
        if (![0, 1, 2, 3].includes(ui)) throw new ApiError(400, 'uiMode must be 0, 1, 2 or 3');
        let via = field(b, 'via', 'string');
        const bypass = field(b, 'bypass', 'string');
        if (bypass !== undefined) {
          if (!gateways) throw new ApiError(503, 'this server does not manage gateways');
          sendJson(res, 202, { ...(await gateways.notifyBypass(bypass, id!, ui as 0 | 1 | 2 | 3, 10_000)), bypass });
          return;
        }
        if (via === undefined) {
          // a device behind a gateway is reached through it: the address its HTTP came from is the
          // gateway's (a NAT), where no one listens for its Package#0; a push-channel poll reaches it anywhere
          const behind =
            gateways && jobs && !(await service.push?.reachable(id!)) ? await jobs.location(id!).catch(() => undefined) : undefined;
          if (behind === undefined) {
            sendJson(res, 202, await service.notify(id!, ui as 0 | 1 | 2 | 3));
            return;
          }
          await service.device(id!); // 404 before anything is queued on the gateway
          via = behind.gatewayId;
        }
        if (!gateways) throw new ApiError(503, 'this server does not manage gateways');
        // transparent mode: through the gateway's EDTrigger MO
        const r = await gateways.notifyVia(via, id!, ui as 0 | 1 | 2 | 3, 10_000);
        if (!r.done) {
          sendJson(res, 202, { pending: true, message: 'the gateway has not answered yet; the trigger stays queued' });
          return;
        }
        const status = r.value!.status;
        if (status !== 200)
          throw new ApiError(
            status === 404 || status === 410 ? 404 : 409,
            `gateway ${via} did not forward the notification: DM status ${status}`,
          );
        sendJson(res, 202, { sessionId: r.value!.sessionId, via });
      },
    ],
  ];
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/api/')) return false;
    try {
      const matching = routes.filter(([, re]) => re.test(url.pathname));
      if (matching.length === 0) throw new ApiError(404, `no API route ${url.pathname}; see /api/openapi.json`);
      const route = matching.find(([method]) => method === req.method);
      if (!route) {
        res.setHeader('allow', matching.map(([m]) => m).join(', '));
        throw new ApiError(405, `${req.method} is not allowed on ${url.pathname}`);
      }
      const params = route[1]
        .exec(url.pathname)!
        .slice(1)
        .map((p) => decodeURIComponent(p));
      await route[2](req, res, params, url);
    } catch (err) {
      if (err instanceof ApiError || err instanceof ServiceError) sendJson(res, err.status, { error: err.message });
      else {
        const fault = storeFaultOf(err);
        if (fault) sendStoreFault(res, fault);
        else sendJson(res, 500, { error: 'internal error; see the server log' });
        // the listener logs a bug (http.error) or counts an outage in the store's health
        throw err;
      }
    }
    return true;
  };
}
