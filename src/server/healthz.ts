// GET /healthz for load balancers: 200 when this instance can reach its database (a trivial query
// with a short timeout), 503 with a JSON reason when it cannot or when it is draining. No
// authentication; checks that arrive while one is running share it, so a flood costs one query.
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { StoreHealth } from '../store/health.ts';

const PING_TIMEOUT_MS = 1500;

export type Health = { readonly status: 'ok' } | { readonly status: 'draining' | 'unavailable' | 'full'; readonly reason: string };

export class HealthCheck {
  private readonly ping: ((timeoutMs: number) => Promise<void>) | undefined;
  /** what the store's own operations saw (a full disk answers SELECT 1 but refuses writes) */
  private readonly store: StoreHealth | undefined;
  private running: Promise<Health> | undefined;
  /** set when the instance is stopping: the balancer moves new sessions away, running ones finish */
  draining = false;

  constructor(ping: ((timeoutMs: number) => Promise<void>) | undefined, store?: StoreHealth) {
    this.ping = ping;
    this.store = store;
  }

  async check(): Promise<Health> {
    if (this.draining)
      return { status: 'draining', reason: 'this instance is stopping: its open DM sessions finish, new ones go elsewhere' };
    this.running ??= this.probe().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const health = await this.check();
    const body = JSON.stringify(health);
    res.writeHead(health.status === 'ok' ? 200 : 503, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private async probe(): Promise<Health> {
    try {
      await this.ping?.(PING_TIMEOUT_MS);
      const known = await this.store?.check();
      if (known && known.state !== 'ok') return { status: known.state, reason: `the store is ${known.state}: ${known.cause ?? ''}` };
      return { status: 'ok' };
    } catch (err) {
      return { status: 'unavailable', reason: `the database does not answer: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
}
