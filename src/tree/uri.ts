// DM URIs (digest §8.1): relative to the root `.`; `./A/B` and `A/B` name the same node; no empty
// segment, no trailing '/', no `..`; `?prop=Name` and `?list=Struct|StructData|TNDS…` suffixes.
export interface ParsedUri {
  /** normalized path: '.' or './A/B' */
  readonly path: string;
  readonly segments: readonly string[];
  readonly prop?: string;
  readonly list?: string;
}

export interface UriLimits {
  /** segments; 0 = unlimited */
  readonly maxDepth: number;
  /** characters of the whole URI; 0 = unlimited */
  readonly maxTotLen: number;
  /** characters per segment; 0 = unlimited */
  readonly maxSegLen: number;
}

export const NO_LIMITS: UriLimits = { maxDepth: 0, maxTotLen: 0, maxSegLen: 0 };

export type UriCheck = { ok: true; uri: ParsedUri } | { ok: false; status: 400 | 414; reason: string };

const SEGMENT = /^(?:[A-Za-z0-9\-_.!~*'():@&=+$,]|%[0-9A-Fa-f]{2}|[^\x00-\x7f])+$/u;

export function parseUri(uri: string, limits: UriLimits = NO_LIMITS): UriCheck {
  if (limits.maxTotLen > 0 && uri.length > limits.maxTotLen)
    return { ok: false, status: 414, reason: `URI longer than ${limits.maxTotLen}` };
  let rest = uri;
  let prop: string | undefined;
  let list: string | undefined;
  const q = uri.indexOf('?');
  if (q >= 0) {
    rest = uri.slice(0, q);
    const query = uri.slice(q + 1);
    if (query.startsWith('prop=')) prop = query.slice(5);
    else if (query.startsWith('list=')) list = query.slice(5);
    else return { ok: false, status: 400, reason: `unknown query ?${query}` };
    if ((prop ?? list) === '') return { ok: false, status: 400, reason: 'empty property or list name' };
  }
  if (rest === '.' || rest === '')
    return { ok: true, uri: { path: '.', segments: [], ...(prop ? { prop } : {}), ...(list ? { list } : {}) } };
  if (rest.startsWith('./')) rest = rest.slice(2);
  if (rest.startsWith('/') || rest.endsWith('/')) return { ok: false, status: 400, reason: 'URI starts or ends with /' };
  const segments = rest.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || !SEGMENT.test(s)) return { ok: false, status: 400, reason: `bad segment "${s}"` };
    if (limits.maxSegLen > 0 && s.length > limits.maxSegLen)
      return { ok: false, status: 414, reason: `segment longer than ${limits.maxSegLen}` };
  }
  if (limits.maxDepth > 0 && segments.length > limits.maxDepth) return { ok: false, status: 414, reason: `deeper than ${limits.maxDepth}` };
  return { ok: true, uri: { path: `./${segments.join('/')}`, segments, ...(prop ? { prop } : {}), ...(list ? { list } : {}) } };
}

export function parentOf(path: string): string | undefined {
  if (path === '.') return undefined;
  const i = path.lastIndexOf('/');
  return i <= 1 ? '.' : path.slice(0, i);
}

export function nameOf(path: string): string {
  return path === '.' ? '.' : path.slice(path.lastIndexOf('/') + 1);
}

export function join(path: string, name: string): string {
  return path === '.' ? `./${name}` : `${path}/${name}`;
}

/** True when `path` is `root` or below it. */
export function isWithin(path: string, root: string): boolean {
  return root === '.' || path === root || path.startsWith(`${root}/`);
}
