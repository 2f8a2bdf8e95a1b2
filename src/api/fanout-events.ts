// Live progress of a fanout as server-sent events. The server learns of a fanout's end from the
// gateway's Generic Alerts only, so while clients watch, the job's Fanout MO node is polled (one
// loop per job, shared by its watchers: src/server/fanout-poller.ts) and each change is sent as an
// event; the last event (`done`) carries the final job.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { FanoutPollers, type FanoutWatch, isFinal } from '../server/fanout-poller.ts';
import type { GatewayService, Tree } from '../server/gateways.ts';
import type { Route } from './gateways.ts';
import { openEventStream } from './sse.ts';

export interface FanoutEventOptions {
  /** pause between two reads of the job */
  readonly pollMs?: number;
  /** a comment line this often keeps proxies from closing a quiet stream */
  readonly heartbeatMs?: number;
  /** how long one read waits for the gateway */
  readonly waitMs?: number;
  /** the poll loops to share (default: a set of its own, with pollMs and waitMs) */
  readonly pollers?: FanoutPollers;
}

export function fanoutEventRoutes(gw: GatewayService, options: FanoutEventOptions = {}): Route[] {
  const pollMs = options.pollMs ?? 500;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const pollers = options.pollers ?? new FanoutPollers(gw, { pollMs, ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}) });
  return [
    [
      'GET',
      /^\/api\/gateways\/([^/]+)\/fanouts\/([^/]+)\/events$/,
      async (req, res, [id, name]) => {
        // joining answers errors (unknown gateway or job, a silent gateway) as JSON, before the stream starts
        const watch = await pollers.watch(id!, name!);
        await stream(req, res, watch, { pollMs, heartbeatMs });
      },
    ],
  ];
}

async function stream(
  req: IncomingMessage,
  res: ServerResponse,
  watch: FanoutWatch,
  o: { pollMs: number; heartbeatMs: number },
): Promise<void> {
  if (req.socket.destroyed) return watch.leave(); // it went while the first read was on its way
  const s = openEventStream(req, res, { heartbeatMs: o.heartbeatMs, retryMs: Math.max(1000, o.pollMs) });
  // the client going ends this watcher's share of the polling (the loop stops with its last watcher)
  s.onEnd(watch.leave);
  const send = (job: Tree, final: boolean): void => s.send(final ? 'done' : 'progress', job);
  try {
    send(watch.first, isFinal(watch.first));
    if (isFinal(watch.first)) return;
    for (let u = await watch.next(); u !== undefined; u = await watch.next()) {
      if (u.kind === 'error') {
        // the job was deleted, or the gateway is gone: say so and end the stream
        res.write(`event: error\ndata: ${JSON.stringify({ error: u.message })}\n\n`);
        return;
      }
      send(u.job, u.final);
      if (u.final) return;
    }
  } finally {
    s.end();
  }
}
