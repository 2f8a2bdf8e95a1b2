// REST routes for LwM2M observations behind gateways (docs/lwm2m.md "Observations"): set and
// cancel one on a gateway, and the latest value per path a device reported.
import type { GatewayService } from '../server/gateways.ts';
import { type Route, strings, waitOf } from './gateways.ts';
import { ApiError, field, readJson, sendJson } from './http-json.ts';

export function observationRoutes(gw: GatewayService): Route[] {
  const G = '^\\/api\\/gateways\\/([^/]+)\\/observations';
  return [
    [
      'POST',
      new RegExp(`${G}$`),
      async (req, res, [id], url) => {
        const b = await readJson(req);
        const attributes = b['attributes'];
        if (attributes !== undefined && (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes))) {
          throw new ApiError(400, 'attributes must be an object such as {"pmin": 10, "pmax": 60}');
        }
        const devices = strings(b['devices'], 'devices');
        const groups = strings(b['groups'], 'groups');
        const name = field(b, 'name', 'string', true)!;
        const r = await gw.observe(
          id!,
          {
            name,
            path: field(b, 'path', 'string', true)!,
            ...(devices ? { devices } : {}),
            ...(groups ? { groups } : {}),
            ...(attributes ? { attributes: attributes as Record<string, number> } : {}),
          },
          waitOf(url),
        );
        const ops = r.operations.map((o) => ({ kind: o.kind, path: o.target, state: o.state, status: o.status ?? null }));
        if (r.done && r.operations[0]!.status === 418)
          throw new ApiError(409, `gateway ${id} already has an observation "${name}"; DELETE it first or pick another name`);
        const failed = r.done ? r.operations.find((o) => o.status !== 200 && !(o.kind === 'Add' && o.status === 418)) : undefined;
        if (failed)
          throw new ApiError(409, `the gateway refused the observation: ${failed.kind} ${failed.target} → DM status ${failed.status}`);
        sendJson(res, r.done ? 201 : 202, { name, started: r.done, operations: ops });
      },
    ],
    [
      'DELETE',
      new RegExp(`${G}/([^/]+)$`),
      async (_q, res, [id, name], url) => {
        const r = await gw.unobserve(id!, name!, waitOf(url));
        if (!r.done) {
          sendJson(res, 202, { pending: true, message: 'the gateway has not answered yet; the Delete stays queued' });
          return;
        }
        if (r.operations[0]!.status === 404) throw new ApiError(404, `no observation "${name}" on gateway ${id}`);
        sendJson(res, 200, { deleted: name });
      },
    ],
    [
      'GET',
      /^\/api\/devices\/([^/]+)\/observed$/,
      async (_q, res, [id]) => {
        sendJson(res, 200, { deviceId: id, items: await gw.observed(id!) });
      },
    ],
  ];
}
