// The commands of a fanout job: parsed from the SyncML fragment the server wrote into
// ./GwMO/Fanout/<x>/Commands, one job command per Item.
import { type Command, DecodeError, decodeFragment, effectiveFormat } from '../protocol/index.ts';
import type { JobCommand } from '../store/gateway.ts';

export type ParsedCommands = { ok: true; commands: JobCommand[] } | { ok: false; status: number; reason: string };

const KINDS = new Set(['Get', 'Replace', 'Add', 'Delete', 'Exec', 'Copy']);

export function parseJobCommands(text: string): ParsedCommands {
  let commands: Command[];
  try {
    commands = decodeFragment(text);
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, status: 400, reason: err.message };
    throw err;
  }
  if (commands.length === 0) return { ok: false, status: 412, reason: 'no commands' };
  const out: JobCommand[] = [];
  for (const cmd of commands) {
    if (!KINDS.has(cmd.kind))
      return { ok: false, status: 406, reason: `${cmd.kind} is not supported in a fanout (one of ${[...KINDS].join(', ')})` };
    const items = cmd.kind === 'Exec' ? [cmd.item] : 'items' in cmd ? cmd.items : [];
    const meta = 'meta' in cmd ? cmd.meta : undefined;
    for (const item of items) {
      const target = item.target?.locUri;
      if (!target) return { ok: false, status: 412, reason: `${cmd.kind} without a Target` };
      if (cmd.kind === 'Copy' && !item.source) return { ok: false, status: 412, reason: 'Copy without a Source' };
      const format = effectiveFormat(item, meta);
      const type = item.meta?.type ?? meta?.type;
      out.push({
        kind: cmd.kind as JobCommand['kind'],
        target,
        ...(item.source ? { source: item.source.locUri } : {}),
        ...(item.data !== undefined ? { data: item.data } : {}),
        ...(format !== 'chr' ? { format } : {}),
        ...(type ? { type } : {}),
      });
    }
  }
  return { ok: true, commands: out };
}
