// Status and Results answering a command: CmdRef/MsgRef and the Target/Source refs the peer sent.
import type { Command, Item, Status } from '../protocol/index.ts';

export function targetRefsOf(cmd: Command): string[] {
  return itemsOf(cmd).flatMap((i) => (i.target ? [i.target.locUri] : []));
}

export function sourceRefsOf(cmd: Command): string[] {
  return itemsOf(cmd).flatMap((i) => (i.source ? [i.source.locUri] : []));
}

export function itemsOf(cmd: Command): readonly Item[] {
  switch (cmd.kind) {
    case 'Exec':
      return [cmd.item];
    case 'Atomic':
    case 'Sequence':
    case 'Unsupported':
      return [];
    default:
      return cmd.items;
  }
}

/** A Status for `cmd`; cmdId is filled in when the message is assembled. */
export function statusFor(msgRef: number, cmd: Command, code: number, extra: Partial<Pick<Status, 'items' | 'chal'>> = {}): Status {
  return {
    kind: 'Status',
    cmdId: 0,
    msgRef,
    cmdRef: cmd.cmdId,
    cmd: cmd.kind === 'Unsupported' ? cmd.name : cmd.kind,
    targetRefs: cmd.kind === 'Alert' ? [] : targetRefsOf(cmd),
    sourceRefs: cmd.kind === 'Alert' ? [] : sourceRefsOf(cmd),
    code,
    items: extra.items ?? [],
    ...(extra.chal ? { chal: extra.chal } : {}),
  };
}
