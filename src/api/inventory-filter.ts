// Filters and pages a gateway's inventory (GET /api/gateways/{id}/devices?status=&mode=&protocol=&q=
// &limit=&offset=). The gateway answers the whole DevInventory; the server narrows it for the
// dashboard, so the gateway's MO stays as GwMO defines it.
import type { Tree } from '../server/gateways.ts';
import { ApiError } from './http-json.ts';

const MODES: Readonly<Record<string, string>> = { transparent: '1', proxy: '2', adaptation: '3', 1: '1', 2: '2', 3: '3' };
const FILTERS = ['status', 'mode', 'protocol', 'q', 'limit', 'offset'];

export interface InventoryQuery {
  readonly status?: '1' | '0';
  readonly mode?: string;
  readonly protocol?: string;
  readonly q?: string;
  readonly limit?: number;
  readonly offset: number;
}

/** the query's filters, checked; undefined when it has none (the inventory is answered whole) */
export function inventoryQuery(url: URL): InventoryQuery | undefined {
  if (!FILTERS.some((k) => url.searchParams.has(k))) return undefined;
  const get = (k: string): string | undefined => url.searchParams.get(k) ?? undefined;
  const status = get('status');
  if (status !== undefined && status !== 'attached' && status !== 'detached')
    throw new ApiError(400, 'status must be attached or detached');
  const mode = get('mode');
  if (mode !== undefined && MODES[mode.toLowerCase()] === undefined)
    throw new ApiError(400, 'mode must be transparent, proxy or adaptation (or 1, 2, 3)');
  const protocol = get('protocol');
  if (protocol !== undefined && (protocol === '' || protocol.length > 50))
    throw new ApiError(400, 'protocol must have 1–50 characters, e.g. LwM2M or OMA-DM');
  const q = get('q');
  if (q !== undefined && q.length > 200) throw new ApiError(400, 'q must have at most 200 characters');
  const limitText = get('limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
    throw new ApiError(400, 'limit must be an integer 1–1000');
  const offset = Number(get('offset') ?? 0);
  if (!Number.isInteger(offset) || offset < 0) throw new ApiError(400, 'offset must be a non-negative integer');
  return {
    ...(status !== undefined ? { status: status === 'attached' ? ('1' as const) : ('0' as const) } : {}),
    ...(mode !== undefined ? { mode: MODES[mode.toLowerCase()]! } : {}),
    ...(protocol !== undefined ? { protocol: protocol.toLowerCase() } : {}),
    ...(q !== undefined && q !== '' ? { q: q.toLowerCase() } : {}),
    ...(limit !== undefined ? { limit } : {}),
    offset,
  };
}

// pages follow the order people read ids in: IMEI:3500099 before IMEI:35000100 (the dashboard sorts alike)
const natural = new Intl.Collator('en', { numeric: true });

const values = (t: Tree | string): string[] => (typeof t === 'string' ? [t] : Object.values(t).flatMap(values));

/** the devices that match, a page of them, and how many matched in all */
export function filterInventory(
  devices: Tree,
  query: InventoryQuery,
): { devices: Tree; matched: number; limit: number | null; offset: number } {
  const matching = Object.entries(devices)
    .filter(([, d]) => {
      if (typeof d === 'string') return false;
      if (query.status !== undefined && d['Status'] !== query.status) return false;
      if (query.mode !== undefined && d['Mode'] !== query.mode) return false;
      // "lwm2m" matches LwM2M/1.1, "oma-dm" matches OMA-DM/1.2
      if (
        query.protocol !== undefined &&
        !String(d['Protocol'] ?? '')
          .toLowerCase()
          .startsWith(query.protocol)
      )
        return false;
      if (query.q !== undefined && !values(d).some((v) => v.toLowerCase().includes(query.q!))) return false;
      return true;
    })
    .sort(([a], [b]) => natural.compare(a, b));
  const page = matching.slice(query.offset, query.limit === undefined ? undefined : query.offset + query.limit);
  return { devices: Object.fromEntries(page), matched: matching.length, limit: query.limit ?? null, offset: query.offset };
}
