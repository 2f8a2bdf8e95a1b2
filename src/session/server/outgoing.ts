// Operations → DM commands, and cutting a large value into chunks that fit the device's MaxMsgSize.
import type { Command, ItemData, Meta } from '../../protocol/index.ts';
import type { Operation } from './types.ts';

/**
 * A format the operation names is sent as named. `explicitFormat`: an Item with Data names chr too:
 * it is the default (DM 1.2 Meta), but deployed clients dereference a missing Format and crash, so
 * common DM servers always send it (docs/interop.md).
 */
function metaOf(op: Operation, explicitFormat: boolean, extra: Partial<Meta> = {}): Meta | undefined {
  const format = op.format ?? (explicitFormat && op.data !== undefined ? 'chr' : undefined);
  const meta: Meta = {
    ...(format !== undefined ? { format } : {}),
    ...(op.type !== undefined && op.type !== 'text/plain' ? { type: op.type } : {}),
    ...extra,
  };
  return Object.keys(meta).length > 0 ? meta : undefined;
}

/** The command for an operation, or for one chunk of its data (`chunk` with moreData/size). */
export function commandFor(
  op: Operation,
  cmdId: number,
  chunk?: { data: ItemData; moreData: boolean; size?: number },
  explicitFormat = true,
): Command {
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
      const meta = metaOf(op, explicitFormat);
      return {
        kind: 'Exec',
        cmdId,
        ...(op.correlator ? { correlator: op.correlator } : {}),
        item: { target, ...(meta ? { meta } : {}), ...(data !== undefined ? { data } : {}) },
      };
    }
    case 'Add':
    case 'Replace': {
      const data = chunk ? chunk.data : op.data;
      const meta = metaOf(op, explicitFormat, chunk?.size !== undefined ? { size: chunk.size } : {});
      const item = {
        target,
        ...(meta ? { meta } : {}),
        ...(data !== undefined ? { data } : {}),
        ...(chunk?.moreData ? { moreData: true } : {}),
      };
      return { kind: op.kind, cmdId, items: [item] };
    }
  }
}
