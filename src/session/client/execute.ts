// Runs the server's management commands against the tree; one Status per command (per Item where
// items fail differently) and one Results per successful Get. Atomic rolls back as a whole.
import {
  AlertCode,
  type Alert,
  type Command,
  effectiveFormat,
  type Item,
  type Meta,
  type Results,
  type Status,
  StatusCode,
} from '../../protocol/index.ts';
import type { DmTree, NodeValue, Principal, Write } from '../../tree/api.ts';
import { statusFor } from '../refs.ts';
import type { UiAnswer } from './types.ts';

export interface Answer {
  readonly statuses: Status[];
  readonly results: Results[];
}

export interface ExecContext {
  readonly tree: DmTree;
  readonly who: Principal;
  readonly msgRef: number;
  ui?(alert: Alert): UiAnswer | Promise<UiAnswer>;
  /** set inside an Atomic: nested Atomics are refused */
  readonly inAtomic?: boolean;
}

/** Executes one command; `declined` is set when a UI confirm was answered "no" (304) or cancelled. */
export async function execute(cmd: Command, ctx: ExecContext): Promise<Answer & { declined: boolean }> {
  const out: Answer = { statuses: [], results: [] };
  const status = (code: number, extra: Partial<Pick<Status, 'items'>> = {}): void => {
    if (!cmd.noResp) out.statuses.push(statusFor(ctx.msgRef, cmd, code, extra));
  };
  switch (cmd.kind) {
    case 'Get': {
      const values: NodeValue[] = [];
      let code: number = StatusCode.Ok;
      for (const item of cmd.items) {
        const r = await ctx.tree.get(ctx.who, uriOf(item));
        if (r.status !== StatusCode.Ok) {
          code = r.status;
          break;
        }
        values.push(...(r.value ?? []));
      }
      status(code);
      if (code === StatusCode.Ok) out.results.push(resultsFor(cmd.cmdId, ctx.msgRef, values));
      return { ...out, declined: false };
    }
    case 'Add':
    case 'Replace': {
      status(
        await eachItem(cmd.items, (item) => {
          const write = writeOf(item, cmd.meta);
          return cmd.kind === 'Add' ? ctx.tree.add(ctx.who, uriOf(item), write) : ctx.tree.replace(ctx.who, uriOf(item), write);
        }),
      );
      return { ...out, declined: false };
    }
    case 'Delete':
      status(await eachItem(cmd.items, (item) => ctx.tree.delete(ctx.who, uriOf(item))));
      return { ...out, declined: false };
    case 'Copy':
      status(
        await eachItem(cmd.items, (item) =>
          item.source ? ctx.tree.copy(ctx.who, uriOf(item), item.source.locUri) : Promise.resolve(StatusCode.IncompleteCommand),
        ),
      );
      return { ...out, declined: false };
    case 'Exec':
      status(
        await ctx.tree.exec(ctx.who, uriOf(cmd.item), {
          ...(cmd.item.data !== undefined ? { data: cmd.item.data } : {}),
          ...(cmd.correlator ? { correlator: cmd.correlator } : {}),
        }),
      );
      return { ...out, declined: false };
    case 'Alert': {
      const answer = await uiAlert(cmd, ctx);
      status(answer.code, answer.items ? { items: answer.items.map((data) => ({ data })) } : {});
      const declined = answer.code === StatusCode.NotModified || answer.code === StatusCode.OperationCancelled;
      return { ...out, declined };
    }
    case 'Sequence': {
      let skipping = false;
      const inner: Answer = { statuses: [], results: [] };
      for (const sub of cmd.commands) {
        if (skipping) {
          inner.statuses.push(statusFor(ctx.msgRef, sub, StatusCode.NotExecuted));
          continue;
        }
        const a = await execute(sub, ctx);
        inner.statuses.push(...a.statuses);
        inner.results.push(...a.results);
        // a "no" to a confirm inside a Sequence skips the rest of it (215)
        if (a.declined) skipping = true;
      }
      status(StatusCode.Ok);
      return { statuses: [...out.statuses, ...inner.statuses], results: inner.results, declined: false };
    }
    case 'Atomic':
      return { ...(await atomic(cmd, ctx, status, out)), declined: false };
    case 'Status':
    case 'Results':
      return { ...out, declined: false };
    case 'Unsupported':
      status(StatusCode.OptionalFeatureNotSupported);
      return { ...out, declined: false };
  }
}

async function atomic(
  cmd: Extract<Command, { kind: 'Atomic' }>,
  ctx: ExecContext,
  status: (code: number) => void,
  out: Answer,
): Promise<Answer> {
  if (ctx.inAtomic) {
    status(StatusCode.OptionalFeatureNotSupported);
    return out;
  }
  const tx = await ctx.tree.begin();
  const inner: Answer = { statuses: [], results: [] };
  let failed = false;
  for (const sub of cmd.commands) {
    const a = await execute(sub, { ...ctx, inAtomic: true });
    inner.statuses.push(...a.statuses);
    inner.results.push(...a.results);
    if (a.declined || a.statuses.some((s) => !isSuccess(s.code))) {
      failed = true;
      break;
    }
  }
  if (!failed) {
    await tx.commit();
    status(StatusCode.Ok);
    return { statuses: [...out.statuses, ...inner.statuses], results: inner.results };
  }
  await tx.rollback();
  status(StatusCode.AtomicFailed);
  // what ran is undone (216), what failed keeps its code, what never ran is 215; no Results
  const done = new Map(inner.statuses.map((s) => [s.cmdRef, s] as const));
  const statuses: Status[] = [];
  const walk = (c: Command): void => {
    const s = done.get(c.cmdId);
    if (s === undefined) statuses.push(statusFor(ctx.msgRef, c, StatusCode.NotExecuted));
    else statuses.push(isSuccess(s.code) ? { ...s, code: StatusCode.AtomicRollbackOk } : s);
    if (c.kind === 'Sequence' || c.kind === 'Atomic') c.commands.forEach(walk);
  };
  cmd.commands.forEach(walk);
  return { statuses: [...out.statuses, ...statuses], results: [] };
}

function isSuccess(code: number): boolean {
  return code >= 200 && code < 300;
}

/** One status for all items: the first failure wins, else 200. */
async function eachItem(items: readonly Item[], run: (item: Item) => Promise<number>): Promise<number> {
  let code: number = StatusCode.Ok;
  for (const item of items) {
    const c = await run(item);
    if (!isSuccess(c)) return c;
    code = c;
  }
  return code;
}

function uriOf(item: Item): string {
  return item.target?.locUri ?? '';
}

export function writeOf(item: Item, commandMeta: Meta | undefined): Write {
  const type = item.meta?.type ?? commandMeta?.type;
  return {
    format: effectiveFormat(item, commandMeta),
    ...(type !== undefined ? { type } : {}),
    ...(item.data !== undefined ? { data: item.data } : {}),
  };
}

export function resultsFor(cmdRef: number, msgRef: number, values: readonly NodeValue[]): Results {
  return {
    kind: 'Results',
    cmdId: 0,
    msgRef,
    cmdRef,
    items: values.map((v) => {
      const meta: Meta = {
        ...(v.format !== 'chr' ? { format: v.format } : {}),
        ...(v.type !== undefined && v.type !== 'text/plain' ? { type: v.type } : {}),
      };
      return {
        source: { locUri: v.uri },
        ...(Object.keys(meta).length ? { meta } : {}),
        ...(v.data !== undefined ? { data: v.data } : {}),
      };
    }),
  };
}

/** UI alerts (1100–1104); without a UI handler the defaults (DR=) are taken, as a user who says yes. */
async function uiAlert(alert: Alert, ctx: ExecContext): Promise<UiAnswer> {
  const code = alert.data ?? 0;
  if (code < AlertCode.Display || code > AlertCode.MultipleChoice) return { code: StatusCode.OptionalFeatureNotSupported };
  if (ctx.ui) return ctx.ui(alert);
  const options = new URLSearchParams(typeof alert.items[0]?.data === 'string' ? alert.items[0].data : '');
  const dr = options.get('DR');
  switch (code) {
    case AlertCode.Display:
      return { code: StatusCode.Ok };
    case AlertCode.ConfirmOrReject:
      return { code: dr === '0' ? StatusCode.NotModified : StatusCode.Ok };
    case AlertCode.TextInput:
      return { code: StatusCode.Ok, items: [dr ?? ''] };
    case AlertCode.SingleChoice:
      return { code: StatusCode.Ok, items: [dr ?? '1'] };
    default:
      return { code: StatusCode.Ok, items: (dr ?? '1').split('-') };
  }
}
