// Live progress of a fanout as server-sent events. The server learns of a fanout's end from the
// gateway's Generic Alerts only, so while a client watches, this polls the job's Fanout MO node
// (a DM Get through the gateway's session, as GET /fanouts/{name} does) and sends an event each
// time State, Progress, Aggregate or Results change; the last event (`done`) carries the final job.
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { GatewayService, Tree } from '../server/gateways.ts';
import type { Route } from './gateways.ts';
import { ApiError } from './http-json.ts';

/** Fanout MO State: 30 completed, 40 cancelled, 60 failed (src/gateway/fanout.ts JobState) */
const FINAL_STATES = new Set(['30', '40', '60']);

export interface FanoutEventOptions {
  /** pause between two reads of the job */
  readonly pollMs?: number;
  /** a comment line this often keeps proxies from closing a quiet stream */
  readonly heartbeatMs?: number;
  /** how long one read waits for the gateway */
  readonly waitMs?: number;
}

export function fanoutEventRoutes(gw: GatewayService, options: FanoutEventOptions = {}): Route[] {
  const pollMs = options.pollMs ?? 500;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const waitMs = options.waitMs ?? 10_000;
  return [
    ['GET', /^\/api\/gateways\/([^/]+)\/fanouts\/([^/]+)\/events$/, async (req, res, [id, name]) => {
      // the first read answers errors (unknown gateway or job) as JSON, before the stream starts
      const first = await gw.fanout(id!, name!, waitMs);
      if (!first.done) throw new ApiError(504, `gateway ${id} did not answer within ${waitMs / 1000} s; try again`);
      await stream(req, res, first.value!, () => gw.fanout(id!, name!, waitMs).then((r) => (r.done ? r.value : undefined)), { pollMs, heartbeatMs });
    }],
  ];
}

async function stream(req: IncomingMessage, res: ServerResponse, first: Tree, read: () => Promise<Tree | undefined>, o: { pollMs: number; heartbeatMs: number }): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let n = 0;
  let last = '';
  let gone = false;
  req.on('close', () => (gone = true));
  res.on('close', () => (gone = true));
  const send = (job: Tree): boolean => {
    const text = JSON.stringify(job);
    const final = FINAL_STATES.has(String(job['State']));
    if (text !== last || final) {
      last = text;
      res.write(`id: ${++n}\nevent: ${final ? 'done' : 'progress'}\ndata: ${text}\n\n`);
    }
    return final;
  };
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), o.heartbeatMs);
  heartbeat.unref();
  try {
    res.write(`retry: ${Math.max(1000, o.pollMs)}\n\n`);
    if (send(first)) return;
    while (!gone) {
      await new Promise((r) => setTimeout(r, o.pollMs).unref());
      if (gone) break;
      let job: Tree | undefined;
      try {
        job = await read();
      } catch (err) {
        // the job was deleted, or the gateway is gone: say so and end the stream
        res.write(`event: error\ndata: ${JSON.stringify({ error: (err as Error).message })}\n\n`);
        return;
      }
      if (job !== undefined && !gone && send(job)) return;
    }
  } finally {
    clearInterval(heartbeat);
    if (!res.writableEnded) res.end();
  }
}
