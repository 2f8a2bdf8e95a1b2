// The x-syncml-hmac transport header (digest §5.3). We write exactly what the AOSP client writes;
// we read what peers send: keys in any order and case, optional spaces, quoted or bare values, a mac
// with or without '=' padding (the spec's own example has none).
import { AuthError, AuthErrorCode } from '../errors.ts';

export const HMAC_HEADER = 'x-syncml-hmac';

export interface HmacHeader {
  /** Only MD5 is defined; parse keeps what was sent so the caller can refuse it with a status. */
  readonly algorithm: string;
  readonly username: string;
  readonly mac: string;
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The header value, e.g. `algorithm=MD5, username="Bruce2", mac=84zpzQ8k2L7HNBoYieV2LQ==`. */
export function formatHmacHeader(header: Omit<HmacHeader, 'algorithm'> & { readonly algorithm?: string }): string {
  return `algorithm=${header.algorithm ?? 'MD5'}, username=${quote(header.username)}, mac=${header.mac}`;
}

const MAX_HEADER = 1024;

export function parseHmacHeader(value: string): HmacHeader {
  if (value.length > MAX_HEADER) throw bad(`header is longer than ${MAX_HEADER} characters`);
  const fields = new Map<string, string>();
  let i = 0;
  const n = value.length;
  const skipSpace = (): void => {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  while (i < n) {
    skipSpace();
    if (value[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    const eq = value.indexOf('=', i);
    if (eq < 0) throw bad(`expected name=value at character ${i}`);
    const name = value.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z-]+$/.test(name)) throw bad(`bad field name at character ${i}`);
    i = eq + 1;
    skipSpace();
    let fieldValue = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) throw bad('unterminated quoted value');
        const c = value[i++];
        if (c === '"') break;
        if (c === '\\' && i < n) fieldValue += value[i++];
        else fieldValue += c;
      }
    } else {
      const comma = value.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      // a bare mac keeps its '=' padding: the field ends at the comma, not at the next '='
      fieldValue = value.slice(i, end).trim();
      i = end;
    }
    if (fields.has(name)) throw bad(`field ${name} given twice`);
    fields.set(name, fieldValue);
    skipSpace();
    if (i < n && value[i] !== ',') throw bad(`expected ',' at character ${i}`);
  }
  const username = fields.get('username');
  const mac = fields.get('mac');
  if (username === undefined || username === '') throw bad('username is missing');
  if (mac === undefined || mac === '') throw bad('mac is missing');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(mac)) throw bad('mac is not base64');
  return { algorithm: fields.get('algorithm') ?? 'MD5', username, mac };
}

function bad(detail: string): AuthError {
  return new AuthError(AuthErrorCode.BadHmacHeader, `x-syncml-hmac: ${detail}`);
}
