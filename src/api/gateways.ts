// REST routes for gateways: inventory, groups, config and fanouts, each answered by DM operations
// on the gateway's GwMO objects. `?wait=<s>` (default 10) bounds how long a call waits for the
// gateway; past it the answer is 202 with the queued operations.
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { FanoutSpec, GatewayService, Outcome } from '../server/gateways.ts';
import type { NewOperation } from '../server/service.ts';
import type { OperationRow } from '../store/server.ts';
import { ApiError, field, readJson, sendJson } from './http-json.ts';
import { filterInventory, inventoryQuery } from './inventory-filter.ts';

export type Route = [string, RegExp, (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>];

export function waitOf(url: URL): number {
  const w = Number(url.searchParams.get('wait') ?? 10);
  if (!Number.isFinite(w) || w < 0 || w > 120) throw new ApiError(400, 'wait must be 0–120 seconds');
  return w * 1000;
}

const opView = (o: OperationRow) => ({ id: o.id, kind: o.kind, path: o.target, state: o.state, status: o.status ?? null });

function answer<T>(res: ServerResponse, r: Outcome<T>, view: (value: T | undefined, ops: readonly OperationRow[]) => unknown): void {
  if (!r.done) {
    sendJson(res, 202, {
      pending: true,
      message: 'the gateway has not answered yet; the operations stay queued',
      operations: r.operations.map(opView),
    });
    return;
  }
  sendJson(res, 200, view(r.value, r.operations));
}

export const strings = (v: unknown, name: string): string[] | undefined => {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ApiError(400, `${name} must be an array of strings`);
  return v as string[];
};

export function gatewayRoutes(gw: GatewayService): Route[] {
  const G = '^\\/api\\/gateways\\/([^/]+)';
  return [
    [
      'GET',
      /^\/api\/gateways$/,
      async (_q, res) => {
        sendJson(res, 200, {
          items: (await gw.list()).map((d) => ({
            deviceId: d.deviceId,
            devInfo: d.devInfo,
            lastSeen: d.lastSeen ? new Date(d.lastSeen).toISOString() : null,
            notifyAddress: d.notifyAddress ?? null,
          })),
        });
      },
    ],
    [
      'GET',
      new RegExp(`${G}/devices$`),
      async (_q, res, [id], url) => {
        const query = inventoryQuery(url);
        answer(res, await gw.inventory(id!, waitOf(url)), (v) =>
          query && v ? { summary: v.summary, ...filterInventory(v.devices, query) } : v,
        );
      },
    ],
    [
      'GET',
      new RegExp(`${G}/devices/([^/]+)$`),
      async (_q, res, [id, deviceId], url) => {
        answer(res, await gw.device(id!, deviceId!, waitOf(url)), (v) => v);
      },
    ],
    [
      'GET',
      new RegExp(`${G}/groups$`),
      async (_q, res, [id], url) => {
        answer(res, await gw.groups(id!, waitOf(url)), (v) => v);
      },
    ],
    [
      'PUT',
      new RegExp(`${G}/groups/([^/]+)$`),
      async (req, res, [id, name], url) => {
        const b = await readJson(req);
        const members = strings(b['members'], 'members');
        if (!members) throw new ApiError(400, 'members is required: the DeviceIDs of the group');
        const description = field(b, 'description', 'string');
        answer(
          res,
          await gw.putGroup(id!, name!, { members, ...(description !== undefined ? { description } : {}) }, waitOf(url)),
          (_v, ops) => ({ name, statuses: ops.map(opView) }),
        );
      },
    ],
    [
      'DELETE',
      new RegExp(`${G}/groups/([^/]+)$`),
      async (_q, res, [id, name], url) => {
        answer(res, await gw.deleteGroup(id!, name!, waitOf(url)), (_v, ops) => {
          if (ops[0]!.status === 404) throw new ApiError(404, `no group "${name}" on gateway ${id}`);
          return { deleted: name };
        });
      },
    ],
    [
      'GET',
      new RegExp(`${G}/config$`),
      async (_q, res, [id], url) => {
        answer(res, await gw.config(id!, waitOf(url)), (v) => v);
      },
    ],
    [
      'PUT',
      new RegExp(`${G}/config$`),
      async (req, res, [id], url) => {
        const b = await readJson(req);
        const values: Record<string, string> = {};
        for (const [k, v] of Object.entries(b)) {
          if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
            throw new ApiError(400, `${k} must be a string, number or boolean`);
          values[k] = String(v);
        }
        answer(res, await gw.configure(id!, values, waitOf(url)), (_v, ops) => ({ statuses: ops.map(opView) }));
      },
    ],
    [
      'POST',
      new RegExp(`${G}/fanouts$`),
      async (req, res, [id], url) => {
        const b = await readJson(req);
        const commands = b['commands'];
        if (!Array.isArray(commands) || commands.some((c) => c === null || typeof c !== 'object')) {
          throw new ApiError(400, 'commands must be an array of {"kind","path","value"?,"format"?}');
        }
        const num = (k: string) => field(b, k, 'number');
        const name = field(b, 'name', 'string');
        const spec: FanoutSpec = {
          commands: commands as NewOperation[],
          ...(name !== undefined ? { name } : {}),
          ...(strings(b['devices'], 'devices') ? { devices: strings(b['devices'], 'devices')! } : {}),
          ...(strings(b['groups'], 'groups') ? { groups: strings(b['groups'], 'groups')! } : {}),
          ...(num('timeout') !== undefined ? { timeout: num('timeout')! } : {}),
          ...(num('retries') !== undefined ? { retries: num('retries')! } : {}),
          ...(num('concurrency') !== undefined ? { concurrency: num('concurrency')! } : {}),
        };
        const r = await gw.startFanout(id!, spec, waitOf(url));
        const start = r.operations[r.operations.length - 1]!;
        // 200: the fanout already finished and its completion alert turned the 202 into the final status
        if (r.done && start.status !== 202 && start.status !== 200) {
          // the gateway keeps a job under its name: reusing the name changes nothing there (418, 405, 409)
          if (r.operations[0]!.status === 418)
            throw new ApiError(409, `gateway ${id} already has a fanout "${r.value!.name}"; fanout names are not reused: pick another`);
          const failed = r.operations.find((o) => o.status !== 200 && o.status !== 202) ?? start;
          throw new ApiError(409, `the gateway refused the fanout: ${failed.kind} ${failed.target} → DM status ${failed.status}`);
        }
        sendJson(res, 202, { name: r.value!.name, correlator: r.value!.correlator, started: r.done, operations: r.operations.map(opView) });
      },
    ],
    [
      'GET',
      new RegExp(`${G}/fanouts/([^/]+)$`),
      async (_q, res, [id, name], url) => {
        answer(res, await gw.fanout(id!, name!, waitOf(url)), (v) => ({ name, ...v }));
      },
    ],
  ];
}
