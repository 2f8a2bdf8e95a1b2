// Proxy mode as an EndDeviceDriver: the gateway is the device's DM server. Commands are queued as
// operations in the LAN-side DM store under ids named after the job and device (so a restarted
// gateway finds an attempt already under way or done), the device is woken with Package#0, and
// the driver waits for its Status, with a timeout and retries. A retry sends every command again, so
// it is made only when none that must not run twice (Add, Exec, Copy) may have reached the device:
// such a command sent without a Status back is in doubt, and the device's result says so.
import type { DriverCommand, DriverContext, DriverResult, EndDeviceDriver } from '../adapters/driver.ts';
import { resendable } from '../session/server/index.ts';
import type { OperationRow, ServerStore } from '../store/server.ts';

const finished = (op: OperationRow | undefined): boolean =>
  op !== undefined && (op.state === 'done' || op.state === 'failed' || op.state === 'indoubt');

function view(op: OperationRow | undefined): DriverResult {
  if (!op) return { status: 408 };
  if (op.state === 'indoubt') return { status: 408, inDoubt: true };
  const r = op.results?.[0];
  return { status: op.status ?? 408, ...(r?.data !== undefined ? { data: r.data } : {}), ...(r?.format ? { format: r.format } : {}) };
}

export class ProxyDriver implements EndDeviceDriver {
  readonly protocol = 'OMA-DM';
  private readonly south: ServerStore;
  private readonly wake: (deviceId: string) => Promise<boolean>;
  private readonly now: () => number;
  private readonly waiters = new Map<string, (op: OperationRow | undefined) => void>();
  /** per device, the waits to end when the server says it left (see leave) */
  private readonly leaving = new Map<string, Set<() => void>>();
  /** devices the server said left while a job waited for them: not retried here */
  private readonly left = new Set<string>();

  constructor(south: ServerStore, wake: (deviceId: string) => Promise<boolean>, now: () => number) {
    this.south = south;
    this.wake = wake;
    this.now = now;
  }

  /** Told by the LAN-side DM server whenever an operation changes state (with the row as it now is). */
  operationChanged(op: OperationRow): void {
    if (finished(op)) this.waiters.get(op.id)?.(op);
  }

  /**
   * The server says the device turned up behind another gateway: a job waiting for it stops now,
   * its commands not sent yet are cancelled (408) and one sent without an answer is in doubt, so the
   * server can tell a device never reached (and follow it) from one that may have run them.
   */
  leave(deviceId: string): void {
    const waits = this.leaving.get(deviceId);
    if (!waits) return;
    this.left.add(deviceId);
    for (const stop of [...waits]) stop();
  }

  /** Wakes every waiter (a cancelled job stops waiting). */
  interrupt(): void {
    for (const w of [...this.waiters.values()]) w(undefined);
  }

  async execute(deviceId: string, commands: readonly DriverCommand[], ctx: DriverContext): Promise<DriverResult[]> {
    const prefix = `${ctx.key}/`;
    this.left.delete(deviceId);
    // attempts are numbered from 1: without a first one there is nothing earlier, and the device's whole
    // history (every past job) need not be read
    const first = await this.south.getOperation(`${prefix}1/0`);
    const earlier = first ? (await this.south.listOperations(deviceId)).filter((op) => op.id.startsWith(prefix)) : [];
    let attempt = earlier.reduce((n, op) => Math.max(n, Number(op.id.slice(prefix.length).split('/')[0])), 0);
    const index = (op: OperationRow): number => Number(op.id.slice(op.id.lastIndexOf('/') + 1));
    let ops = earlier.filter((op) => op.id.startsWith(`${prefix}${attempt}/`)).sort((a, b) => index(a) - index(b));
    for (;;) {
      if (ops.length === 0) {
        attempt++;
        for (const [i, c] of commands.entries()) {
          const id = `${prefix}${attempt}/${i}`;
          ops.push(
            await this.south.queueOperation(
              {
                id,
                deviceId,
                kind: c.kind,
                target: c.target,
                ...(c.source ? { source: c.source } : {}),
                ...(c.data !== undefined ? { data: c.data } : {}),
                ...(c.format ? { format: c.format } : {}),
                ...(c.type ? { type: c.type } : {}),
                ...(c.kind === 'Exec' ? { correlator: id } : {}),
              },
              this.now(),
            ),
          );
        }
      }
      // waiting starts before the wake-up, and the rows come with the news: no read per operation
      const outcome = this.waitAll(ops, ctx);
      await this.wake(deviceId);
      if (await outcome) return ops.map(view);
      const now = await Promise.all(ops.map((op) => this.south.getOperation(op.id)));
      if (ctx.cancelled()) return now.map(view);
      // an Add, Exec or Copy that went out (answered or not) must not go again with the retry
      let unsafe = now.some((op) => op !== undefined && op.state !== 'queued' && !resendable(op));
      for (const op of now) {
        if (finished(op)) continue;
        if (op!.state === 'sent' && !resendable(op!)) {
          const note = `sent, no status within the fanout's device timeout (${ctx.timeoutMs / 1000} s): whether the ${op!.kind} ran is unknown, so it is not sent again`;
          await this.south.finishOperation(op!.id, { state: 'indoubt', note }, this.now());
          unsafe = true;
        } else await this.south.cancelOperation(op!.id, 408, this.now());
      }
      if (unsafe || attempt > ctx.retries || this.left.delete(deviceId))
        return (await Promise.all(ops.map((op) => this.south.getOperation(op.id)))).map(view);
      ops = [];
    }
  }

  /** Resolves true once every operation has finished (`ops` then holds them as finished), false on timeout or cancel. */
  private waitAll(ops: OperationRow[], ctx: DriverContext): Promise<boolean> {
    const pending = new Set(ops.filter((op) => !finished(op)).map((op) => op.id));
    if (pending.size === 0) return Promise.resolve(true);
    const ids = [...pending];
    const deviceId = ops[0]!.deviceId;
    return new Promise((resolve) => {
      const gone = (): void => stop(false);
      const stop = (ok: boolean): void => {
        clearTimeout(timer);
        for (const id of ids) this.waiters.delete(id);
        const waits = this.leaving.get(deviceId);
        waits?.delete(gone);
        if (waits?.size === 0) this.leaving.delete(deviceId);
        resolve(ok);
      };
      const timer = setTimeout(() => stop(false), ctx.timeoutMs);
      this.leaving.set(deviceId, (this.leaving.get(deviceId) ?? new Set()).add(gone));
      for (const id of ids) {
        this.waiters.set(id, (op) => {
          if (ctx.cancelled()) return stop(false);
          if (op === undefined) return;
          ops[ops.findIndex((o) => o.id === id)] = op;
          pending.delete(id);
          if (pending.size === 0) stop(true);
        });
      }
    });
  }
}
