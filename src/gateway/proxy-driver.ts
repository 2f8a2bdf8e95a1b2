// Proxy mode as an EndDeviceDriver: the gateway is the device's DM server. Commands are queued as
// operations in the LAN-side DM store under ids named after the job and device (so a restarted
// gateway finds an attempt already under way or done), the device is woken with Package#0, and
// the driver waits for its Status, with a timeout and retries.
import type { DriverCommand, DriverContext, DriverResult, EndDeviceDriver } from '../adapters/driver.ts';
import type { OperationRow, ServerStore } from '../store/server.ts';

const finished = (op: OperationRow | undefined): boolean => op !== undefined && (op.state === 'done' || op.state === 'failed');

function view(op: OperationRow | undefined): DriverResult {
  if (!op) return { status: 408 };
  const r = op.results?.[0];
  return { status: op.status ?? 408, ...(r?.data !== undefined ? { data: r.data } : {}), ...(r?.format ? { format: r.format } : {}) };
}

export class ProxyDriver implements EndDeviceDriver {
  readonly protocol = 'OMA-DM';
  private readonly south: ServerStore;
  private readonly wake: (deviceId: string) => Promise<boolean>;
  private readonly now: () => number;
  private readonly waiters = new Map<string, () => void>();

  constructor(south: ServerStore, wake: (deviceId: string) => Promise<boolean>, now: () => number) {
    this.south = south;
    this.wake = wake;
    this.now = now;
  }

  /** Told by the LAN-side DM server whenever an operation changes state. */
  operationChanged(op: OperationRow): void {
    if (finished(op)) this.waiters.get(op.id)?.();
  }

  /** Wakes every waiter (a cancelled job stops waiting). */
  interrupt(): void {
    for (const w of [...this.waiters.values()]) w();
  }

  async execute(deviceId: string, commands: readonly DriverCommand[], ctx: DriverContext): Promise<DriverResult[]> {
    const prefix = `${ctx.key}/`;
    const earlier = (await this.south.listOperations(deviceId)).filter((op) => op.id.startsWith(prefix));
    let attempt = earlier.reduce((n, op) => Math.max(n, Number(op.id.slice(prefix.length).split('/')[0])), 0);
    let ids = earlier.filter((op) => op.id.startsWith(`${prefix}${attempt}/`)).map((op) => op.id);
    for (;;) {
      if (ids.length === 0) {
        attempt++;
        ids = [];
        for (const [i, c] of commands.entries()) {
          const id = `${prefix}${attempt}/${i}`;
          await this.south.queueOperation({
            id, deviceId, kind: c.kind, target: c.target, ...(c.source ? { source: c.source } : {}), ...(c.data !== undefined ? { data: c.data } : {}),
            ...(c.format ? { format: c.format } : {}), ...(c.type ? { type: c.type } : {}), ...(c.kind === 'Exec' ? { correlator: id } : {}),
          }, this.now());
          ids.push(id);
        }
      }
      await this.wake(deviceId);
      const complete = await this.waitAll(ids, ctx);
      const ops = await Promise.all(ids.map((id) => this.south.getOperation(id)));
      if (complete || ctx.cancelled()) return ops.map(view);
      for (const op of ops) if (!finished(op)) await this.south.cancelOperation(op!.id, 408, this.now());
      if (attempt > ctx.retries) return (await Promise.all(ids.map((id) => this.south.getOperation(id)))).map(view);
      ids = [];
    }
  }

  private async waitAll(ids: readonly string[], ctx: DriverContext): Promise<boolean> {
    const ops = await Promise.all(ids.map((id) => this.south.getOperation(id)));
    const pending = new Set(ids.filter((_id, i) => !finished(ops[i])));
    if (pending.size === 0) return true;
    return new Promise((resolve) => {
      const stop = (ok: boolean): void => {
        clearTimeout(timer);
        for (const id of ids) this.waiters.delete(id);
        resolve(ok);
      };
      const timer = setTimeout(() => stop(false), ctx.timeoutMs);
      for (const id of pending) {
        this.waiters.set(id, () => {
          if (ctx.cancelled()) return stop(false);
          void this.south.getOperation(id).then((op) => {
            if (finished(op)) pending.delete(id);
            if (pending.size === 0) stop(true);
          });
        });
      }
    });
  }
}
