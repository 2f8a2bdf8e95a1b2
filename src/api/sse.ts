// The plumbing every server-sent event stream of the API shares (alerts, fanouts, distributions,
// campaigns): the head, a heartbeat comment so proxies do not close a quiet stream, event framing,
// and one end however it comes (the client going, or the stream done).
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface EventStream {
  /** `id` defaults to a counter of this stream's events */
  send(event: string, data: unknown, id?: number): void;
  /** the client went, or end() was called */
  readonly closed: boolean;
  /** called once, when the stream ends either way */
  onEnd(f: () => void): void;
  /** ends the response (with `last` written first) */
  end(last?: string): void;
}

export function openEventStream(req: IncomingMessage, res: ServerResponse, o: { heartbeatMs: number; retryMs?: number }): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  if (o.retryMs !== undefined) res.write(`retry: ${o.retryMs}\n\n`);
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), o.heartbeatMs);
  heartbeat.unref();
  let n = 0;
  let closed = false;
  const ends: (() => void)[] = [];
  const finish = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const f of ends) f();
  };
  req.on('close', finish);
  res.on('close', finish);
  return {
    send: (event, data, id = ++n) => {
      if (!res.writableEnded) res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    get closed() {
      return closed;
    },
    onEnd: (f) => void ends.push(f),
    end: (last) => {
      if (!res.writableEnded) res.end(last);
      finish();
    },
  };
}
