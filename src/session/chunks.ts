// Cutting a value into large-object chunks (digest §3.6), shared by both sides.
import type { ItemData } from '../protocol/index.ts';

/**
 * Slices `data` from `offset` to at most `units` units (bytes, or code points of a string).
 * Byte data under b64 is cut at multiples of 3 so the chunks' base64 texts concatenate to the
 * whole object's base64 text.
 */
export function sliceData(data: ItemData, format: string | undefined, offset: number, units: number): { part: ItemData; next: number } {
  if (typeof data === 'string') {
    const chars = Array.from(data.slice(offset, offset + units * 2))
      .slice(0, units)
      .join('');
    return { part: chars, next: offset + chars.length };
  }
  let n = Math.min(units, data.length - offset);
  if (format === 'b64' && offset + n < data.length) n = Math.max(n - (n % 3), Math.min(3, data.length - offset));
  return { part: data.subarray(offset, offset + n), next: offset + n };
}

/** The Size a first chunk announces: transported bytes (base64 text length for b64). */
export function announcedSize(data: ItemData, format: string | undefined): number {
  if (typeof data === 'string') return Buffer.byteLength(data, 'utf8');
  return format === 'b64' ? Math.ceil(data.length / 3) * 4 : data.length;
}
