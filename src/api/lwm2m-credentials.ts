// REST routes for LwM2M credentials of devices behind gateways (docs/lwm2m.md "Security"): set or
// rotate them (operator), read what the gateway holds (identities and fingerprints, never a key), forget them.
import type { GatewayService } from '../server/gateways.ts';
import { type Route, waitOf } from './gateways.ts';
import { ApiError, field, readJson, sendJson } from './http-json.ts';

const FIELDS = ['gateway', 'identity', 'key', 'publicKey', 'bootstrapIdentity', 'bootstrapKey', 'serverUri'] as const;

export function lwm2mCredentialRoutes(gw: GatewayService): Route[] {
  const R = /^\/api\/devices\/([^/]+)\/lwm2m-credentials$/;
  const pending = { pending: true, message: 'the gateway has not answered yet; the operations stay queued' };
  return [
    [
      'PUT',
      R,
      async (req, res, [id], url) => {
        const b = await readJson(req);
        const unknown = Object.keys(b).filter((k) => !(FIELDS as readonly string[]).includes(k));
        if (unknown.length > 0) throw new ApiError(400, `unknown field ${unknown.join(', ')}; the fields are ${FIELDS.join(', ')}`);
        const given = Object.fromEntries(
          FIELDS.flatMap((k) => {
            const v = field(b, k, 'string', false);
            return v === undefined ? [] : [[k, v]];
          }),
        );
        const r = await gw.putLwm2mCredentials(id!, given, waitOf(url));
        const ops = r.operations.map((o) => ({ kind: o.kind, path: o.target, state: o.state, status: o.status ?? null }));
        if (!r.done) return sendJson(res, 202, { ...pending, gatewayId: r.value!.gatewayId, operations: ops });
        const failed = r.operations.find((o) => o.status !== 200 && !(o.kind === 'Add' && o.status === 418));
        if (failed)
          throw new ApiError(
            failed.status === 409 ? 409 : 502,
            failed.status === 409
              ? `another device on gateway ${r.value!.gatewayId} holds that identity or key (${failed.target})`
              : `gateway ${r.value!.gatewayId} refused ${failed.target}: DM status ${failed.status}`,
          );
        sendJson(res, 200, { deviceId: id, gatewayId: r.value!.gatewayId, fingerprint: r.value!.fingerprint, operations: ops });
      },
    ],
    [
      'GET',
      R,
      async (_q, res, [id], url) => {
        const r = await gw.lwm2mCredentials(id!, url.searchParams.get('gateway') ?? undefined, waitOf(url));
        if (!r.done || !r.value) return sendJson(res, 202, pending);
        const v = r.value;
        sendJson(res, 200, {
          deviceId: id,
          gatewayId: v.gatewayId,
          mode: v['Identity'] ? 'psk' : v['PublicKey'] ? 'rpk' : 'none',
          identity: v['Identity'] || null,
          publicKey: v['PublicKey'] || null,
          fingerprint: v['Fingerprint'] || null,
          rotating: v['Rotating'] === 'true',
          bootstrapIdentity: v['BootstrapIdentity'] || null,
          serverUri: v['ServerURI'] || null,
        });
      },
    ],
    [
      'DELETE',
      R,
      async (_q, res, [id], url) => {
        const r = await gw.deleteLwm2mCredentials(id!, url.searchParams.get('gateway') ?? undefined, waitOf(url));
        if (!r.done) return sendJson(res, 202, pending);
        sendJson(res, 200, { deleted: id, gatewayId: r.value!.gatewayId });
      },
    ],
  ];
}
