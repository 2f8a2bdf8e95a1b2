// Operations → DM commands, and cutting a large value into chunks that fit the device's MaxMsgSize.
import type { Command, ItemData, Meta } from '../../protocol/index.ts';
import type { Operation } from './types.ts';

function metaOf(op: Operation, extra: Partial<Meta> = {}): Meta | undefined {
  const meta: Meta = {
    ...(op.format !== undefined && op.format !== 'chr' ? { format: op.format } : {}),
    ...(op.type !== undefined && op.type !== 'text/plain' ? { type: op.type } : {}),
    ...extra,
  };
  return Object.keys(meta).length > 0 ? meta : undefined;
}

/** The command for an operation, or for one chunk of its data (`chunk` with moreData/size). */
export function commandFor(op: Operation, cmdId: number, chunk?: { data: ItemData; moreData: boolean; size?: number }): Command {
  const target = { locUri: op.target };
  switch (op.kind) {
    case 'Get':
      return { kind: 'Get', cmdId, items: [{ target }] };
    case 'Delete':
      return { kind: 'Delete', cmdId, items: [{ target }] };
    case 'Copy':
      return { kind: 'Copy', cmdId, items: [{ target, source: { locUri: op.source ?? '' } }] };
    case 'Exec': {
      const data = op.data;
      return { kind: 'Exec', cmdId, ...(op.correlator ? { correlator: op.correlator } : {}), item: { target, ...(data !== undefined ? { data } : {}) } };
    }
    case 'Add':
    case 'Replace': {
      const data = chunk ? chunk.data : op.data;
      const meta = metaOf(op, chunk?.size !== undefined ? { size: chunk.size } : {});
      const item = { target, ...(meta ? { meta } : {}), ...(data !== undefined ? { data } : {}), ...(chunk?.moreData ? { moreData: true } : {}) };
      return { kind: op.kind, cmdId, items: [item] };
    }
  }
}
