// Leaf values checked against their Format (digest §8.2). Answers a status: 200 or what is wrong.
import type { ItemData } from '../protocol/index.ts';
import type { Format } from './api.ts';

export const FORMATS: ReadonlySet<string> = new Set(['b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float']);

export function checkValue(format: Format, data: ItemData | undefined): number {
  if (format === 'b64' || format === 'bin' || format === 'chr' || format === 'xml' || format === 'node') return 200;
  if (format === 'null') return data === undefined || data === '' ? 200 : 400;
  const text = typeof data === 'string' ? data : data === undefined ? '' : Buffer.from(data).toString('utf8');
  switch (format) {
    case 'int': {
      if (!/^[-+]?\d+$/.test(text)) return 400;
      const n = Number(text);
      return n >= -2147483648 && n <= 2147483647 ? 200 : 400;
    }
    case 'bool':
      return /^(true|false)$/i.test(text) ? 200 : 400;
    case 'float':
      return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^(INF|-INF|NaN)$/.test(text) ? 200 : 400;
    case 'date':
      return /^\d{4}-?\d{2}-?\d{2}$/.test(text) ? 200 : 400;
    case 'time':
      return /^\d{2}:?\d{2}(:?\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text) ? 200 : 400;
  }
}

export function sizeOf(data: ItemData | undefined): number {
  if (data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
}
