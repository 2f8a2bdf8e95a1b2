// REST routes for images: upload to the server, stage on a gateway (stored once there), list what a
// gateway holds. Installing them on devices: distributions.ts.
import type { GatewayService } from '../server/gateways.ts';
import type { ImageInfo } from '../server/images.ts';
import type { Route } from './gateways.ts';
import { ApiError, field, readJson, sendJson } from './http-json.ts';

const MAX_IMAGE = 2 * 1024 ** 3;

/** An upload as the API shows it; `contentType` is what the uploader claimed, kept as a label only. */
function imageView(i: ImageInfo, publicBase: string): Record<string, unknown> {
  return {
    id: i.id,
    sha256: i.sha256,
    name: i.name,
    version: i.version,
    size: i.size,
    contentType: i.contentType,
    createdAt: new Date(i.createdAt).toISOString(),
    url: `${publicBase}/images/${i.id}`,
    stagings: Object.entries(i.stagings ?? {}).map(([where, state]) => ({
      gateway: where.slice(0, where.lastIndexOf('/')),
      name: where.slice(where.lastIndexOf('/') + 1),
      state,
    })),
  };
}

export function imageRoutes(gw: GatewayService): Route[] {
  const G = '^\\/api\\/gateways\\/([^/]+)';
  const wait = (url: URL): number => {
    const w = Number(url.searchParams.get('wait') ?? 10);
    if (!Number.isFinite(w) || w < 0 || w > 120) throw new ApiError(400, 'wait must be 0–120 seconds');
    return w * 1000;
  };
  const repo = () => {
    if (!gw.images) throw new ApiError(503, 'this server keeps no images (start it with a data dir)');
    return gw.images;
  };
  return [
    [
      'POST',
      /^\/api\/images$/,
      async (req, res, _p, url) => {
        const name = url.searchParams.get('name');
        if (!name) throw new ApiError(400, 'name is required: POST /api/images?name=firmware&version=1.2 with the bytes as the body');
        const type = (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0]!.trim();
        if (type === 'application/json')
          throw new ApiError(415, 'send the image bytes as the body (e.g. Content-Type: application/octet-stream), not JSON');
        const length = Number(req.headers['content-length'] ?? NaN);
        const image = await repo().add(
          req,
          { name, version: url.searchParams.get('version') ?? '', contentType: type, ...(Number.isSafeInteger(length) ? { length } : {}) },
          MAX_IMAGE,
          Date.now(),
        );
        sendJson(res, 201, imageView(image, gw.publicBase));
      },
    ],
    [
      'GET',
      /^\/api\/images$/,
      async (_q, res) => {
        const r = repo();
        sendJson(res, 200, {
          items: (await r.list()).map((i) => imageView(i, gw.publicBase)),
          quotaBytes: r.quotaBytes,
          egress: { bytes: r.served.bytes, requests: r.served.requests },
        });
      },
    ],
    [
      'DELETE',
      /^\/api\/images\/([^/]+)$/,
      async (_q, res, [id]) => {
        await repo().remove(id!);
        res.writeHead(204).end();
      },
    ],
    [
      'POST',
      new RegExp(`${G}/images$`),
      async (req, res, [id], url) => {
        const b = await readJson(req);
        const image = field(b, 'image', 'string', true)!;
        const name = field(b, 'name', 'string');
        const r = await gw.stageImage(id!, { image, ...(name !== undefined ? { name } : {}) }, wait(url));
        const start = r.operations[r.operations.length - 1]!;
        // 200: the download already finished (its imageready alert completed the Exec) before we answer
        if (r.done && start.status !== 202 && start.status !== 200) {
          const failed = r.operations.find((o) => (o.status ?? 0) >= 300 && o.status !== 418) ?? start;
          throw new ApiError(409, `the gateway refused the staging: ${failed.kind} ${failed.target} → DM status ${failed.status}`);
        }
        sendJson(res, 202, { name: r.value!.name, correlator: r.value!.correlator, started: r.done });
      },
    ],
    [
      'POST',
      new RegExp(`${G}/images/([^/]+)/cancel$`),
      async (_q, res, [id, name], url) => {
        const r = await gw.cancelStaging(id!, name!, wait(url));
        if (!r.done) return sendJson(res, 202, { pending: true, message: 'the gateway has not answered yet' });
        const status = r.value!.status;
        if (status === 404) throw new ApiError(404, `gateway ${id} has no image "${name}"`);
        if (status === 405) throw new ApiError(409, `image "${name}" is stored on gateway ${id}: remove it instead of cancelling`);
        if (status !== 200) throw new ApiError(409, `the gateway refused to cancel: DM status ${status}`);
        sendJson(res, 200, { name, cancelled: true });
      },
    ],
    [
      'GET',
      new RegExp(`${G}/images$`),
      async (_q, res, [id], url) => {
        const r = await gw.gatewayImages(id!, wait(url));
        if (!r.done) sendJson(res, 202, { pending: true, message: 'the gateway has not answered yet' });
        else sendJson(res, 200, r.value);
      },
    ],
  ];
}
