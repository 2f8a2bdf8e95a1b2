// GET /api/lwm2m/objects/{id}: an LwM2M object's model (name, resources with type, operations and
// multiplicity) for the dashboard's page of an LwM2M device. Static data: no gateway is asked.
import { lwm2mObjectModel } from '../gateway/lwm2m-models.ts';
import type { Route } from './gateways.ts';
import { ApiError, sendJson } from './http-json.ts';

export function lwm2mObjectRoutes(): Route[] {
  return [
    [
      'GET',
      /^\/api\/lwm2m\/objects\/([^/]+)$/,
      async (_q, res, [text]) => {
        if (!/^\d{1,5}$/.test(text!) || Number(text) > 65535) throw new ApiError(400, `object id must be 0–65535, not "${text}"`);
        const model = lwm2mObjectModel(Number(text));
        if (!model) throw new ApiError(404, `no LwM2M object model for ${text} (neither the OMA registry nor gwmo has one)`);
        sendJson(res, 200, {
          id: model.id,
          name: model.name,
          multiple: model.multiple,
          resources: model.resources.map((r) => ({
            id: r.id,
            name: r.name,
            type: r.type,
            operations: r.operations,
            multiple: r.multiple ?? false,
          })),
        });
      },
    ],
  ];
}
