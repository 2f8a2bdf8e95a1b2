// Row ↔ record mapping shared by the SQL stores (SQLite and PostgreSQL use the same column names).
import type {
  AccountPatch,
  AlertQuery,
  AlertRow,
  DeviceRow,
  DeviceUpdate,
  OperationRow,
  OperationState,
  DoubtResolution,
  SessionProfileRow,
} from './server.ts';

type ItemData = string | Uint8Array;

export type Row = Record<string, unknown>;

/** JSON for values that may hold bytes: `{ "$b64": "…" }` stands for a Uint8Array. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? { $b64: Buffer.from(v).toString('base64') } : v));
}

export function fromJson<T>(text: string): T {
  // a reviver runs for every value: only text that holds bytes needs one
  if (!text.includes('"$b64"')) return JSON.parse(text) as T;
  return JSON.parse(text, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && '$b64' in v ? new Uint8Array(Buffer.from(String((v as { $b64: string }).$b64), 'base64')) : v,
  ) as T;
}

export const bytes = (v: unknown): Uint8Array | undefined => (v instanceof Uint8Array ? new Uint8Array(v) : undefined);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
// PostgreSQL's BIGINT arrives as a string
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v !== '' ? Number(v) : undefined;

export function deviceOf(r: Row): DeviceRow {
  const opt = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
    value === undefined ? {} : ({ [key]: value } as Record<K, V>);
  return {
    deviceId: String(r['device_id']),
    scheme: String(r['scheme']),
    clientName: String(r['client_name']),
    clientPassword: String(r['client_password']),
    ...opt('serverName', str(r['server_name'])),
    ...opt('serverPassword', str(r['server_password'])),
    ...opt('serverPasswordNext', str(r['server_password_next'])),
    ...opt('serverSecretFailures', num(r['server_secret_failures'])),
    ...opt('clientNonce', bytes(r['client_nonce'])),
    ...opt('serverNonce', bytes(r['server_nonce'])),
    ...opt('notifyAddress', str(r['notify_address'])),
    devInfo: fromJson<Record<string, string>>(String(r['dev_info'])),
    createdAt: num(r['created_at'])!,
    ...opt('lastSeen', num(r['last_seen'])),
    ...opt('sessionProfile', profileOf(r['session_profile'])),
  };
}

function profileOf(v: unknown): SessionProfileRow | undefined {
  const text = str(v);
  if (text === undefined || text === '{}') return undefined;
  return fromJson<SessionProfileRow>(text);
}

export function operationOf(r: Row): OperationRow {
  const data: ItemData | undefined = bytes(r['data_blob']) ?? str(r['data_text']);
  const results = str(r['results']);
  return {
    id: String(r['id']),
    deviceId: String(r['device_id']),
    kind: String(r['kind']) as OperationRow['kind'],
    target: String(r['target']),
    ...(str(r['source']) !== undefined ? { source: str(r['source'])! } : {}),
    ...(data !== undefined ? { data } : {}),
    ...(str(r['format']) !== undefined ? { format: str(r['format'])! } : {}),
    ...(str(r['type']) !== undefined ? { type: str(r['type'])! } : {}),
    ...(str(r['correlator']) !== undefined ? { correlator: str(r['correlator'])! } : {}),
    ...(str(r['retry']) === 'always' ? { retry: 'always' as const } : {}),
    state: String(r['state']) as OperationState,
    ...(num(r['status']) !== undefined ? { status: num(r['status'])! } : {}),
    ...(results !== undefined ? { results: fromJson<NonNullable<OperationRow['results']>>(results) } : {}),
    ...(str(r['note']) !== undefined ? { note: str(r['note'])! } : {}),
    createdAt: num(r['created_at'])!,
    updatedAt: num(r['updated_at'])!,
  };
}

export function alertOf(r: Row): AlertRow {
  return {
    id: num(r['id'])!,
    deviceId: String(r['device_id']),
    code: num(r['code'])!,
    ...(str(r['correlator']) !== undefined ? { correlator: str(r['correlator'])! } : {}),
    items: fromJson<Record<string, unknown>[]>(String(r['items'])),
    receivedAt: num(r['received_at'])!,
  };
}

/** the column alerts are filtered by: the first item's Type */
export const alertType = (a: Pick<AlertRow, 'items'>): string | null => str(a.items[0]?.['type']) ?? null;

/** account fields and their columns, in both stores */
export const ACCOUNT_COLUMNS = {
  scheme: 'scheme',
  clientName: 'client_name',
  clientPassword: 'client_password',
  serverName: 'server_name',
  serverPassword: 'server_password',
  serverPasswordNext: 'server_password_next',
  serverSecretFailures: 'server_secret_failures',
  notifyAddress: 'notify_address',
  serverNonce: 'server_nonce',
  sessionProfile: 'session_profile',
} as const;

/** a new device row: its columns, and its values in that order (both stores, create and create-or-replace) */
export const NEW_DEVICE_COLUMNS =
  'device_id, scheme, client_name, client_password, server_name, server_password, client_nonce, server_nonce, notify_address, dev_info, created_at, last_seen, session_profile';

export function newDeviceValues(d: DeviceRow): SqlValue[] {
  return [
    d.deviceId,
    d.scheme,
    d.clientName,
    d.clientPassword,
    d.serverName ?? null,
    d.serverPassword ?? null,
    d.clientNonce ?? null,
    d.serverNonce ?? null,
    d.notifyAddress ?? null,
    toJson(d.devInfo),
    d.createdAt,
    d.lastSeen ?? null,
    columnValue('sessionProfile', d.sessionProfile),
  ];
}

/** device columns the session writes (nonces, DevInfo, the learned profile) */
export const UPDATE_COLUMNS = {
  clientNonce: 'client_nonce',
  serverNonce: 'server_nonce',
  devInfo: 'dev_info',
  lastSeen: 'last_seen',
  notifyAddress: 'notify_address',
  sessionProfile: 'session_profile',
} as const;

type SqlValue = string | number | Uint8Array | null;

/** a device field's value as its column holds it (records as JSON, absent as NULL) */
export function columnValue(key: keyof AccountPatch | keyof DeviceUpdate, value: unknown): SqlValue {
  if (key === 'devInfo' || key === 'sessionProfile') return toJson(value ?? {});
  return (value as SqlValue | undefined) ?? null;
}

/** The condition and values of an AlertQuery, the same in both SQL stores (`?` placeholders). */
export function alertWhere(q: AlertQuery, typeColumn = 'type'): { where: string; values: (string | number)[] } {
  const parts: string[] = [];
  const values: (string | number)[] = [];
  const add = (sql: string, ...v: (string | number)[]): void => {
    parts.push(sql);
    values.push(...v);
  };
  if (q.deviceId !== undefined) add('device_id = ?', q.deviceId);
  // a prefix as a range, so the index on type serves it (U+10FFFF sorts after every other character)
  if (q.type !== undefined && q.typePrefix) add(`${typeColumn} >= ? AND ${typeColumn} < ?`, q.type, `${q.type}\u{10FFFF}`);
  else if (q.type !== undefined) add(`${typeColumn} = ?`, q.type);
  if (q.code !== undefined) add('code = ?', q.code);
  if (q.since !== undefined) add('received_at >= ?', q.since);
  if (q.until !== undefined) add('received_at < ?', q.until);
  if (q.before !== undefined) add('id < ?', q.before);
  if (q.after !== undefined) add('id > ?', q.after);
  return { where: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', values };
}

/**
 * A sent operation that may go again when whether it ran is unknown: Get, Replace and Delete (running
 * them twice leaves the same tree; the session's RETRIED_ON_DROP), or one created with retry "always".
 */
export const RESENDABLE_SQL = `(kind IN ('Get', 'Replace', 'Delete') OR coalesce(retry, '') = 'always')`;

/** why an operation a stopped instance had sent is in doubt */
export const ORPHAN_DOUBT_NOTE =
  'taken for a session by a server instance that stopped before the device answered: whether it ran is unknown, so it is not sent again (resolve it: retry, failed or done)';

/** the state an operation in doubt takes when resolved; no status: the device never gave one */
export const RESOLVED: Readonly<Record<DoubtResolution, readonly [OperationState, null]>> = {
  retry: ['queued', null],
  failed: ['failed', null],
  done: ['done', null],
};
