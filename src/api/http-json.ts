// Small JSON-over-HTTP helpers for the REST API: bounded bodies, errors as { error } with a status.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { faultHttp, type StoreFault } from '../store/health.ts';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

const MAX_BODY = 1024 * 1024;

// what a change did, for the audit line the auth layer writes when the answer is sent
const audits = new WeakMap<ServerResponse, Record<string, unknown>>();

/** Adds fields to the request's audit log line (names of what changed: never a secret's value). */
export function audit(res: ServerResponse, fields: Record<string, unknown>): void {
  audits.set(res, { ...audits.get(res), ...fields });
}

export function audited(res: ServerResponse): Record<string, unknown> {
  return audits.get(res) ?? {};
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError(415, 'send the body as Content-Type: application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, `body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(400, `body is not JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, 'body must be a JSON object');
  return value as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** The database is away (503, Retry-After) or full (507): the client is told which, and the cause. */
export function sendStoreFault(res: ServerResponse, fault: StoreFault): void {
  const http = faultHttp(fault);
  res.setHeader('retry-after', String(http.retryAfter));
  sendJson(res, http.status, { error: fault.state === 'full' ? 'storage full' : 'database unavailable', cause: fault.cause });
}

/** Reads optional typed fields, rejecting wrong types with a message naming the field. */
export function field<T extends 'string' | 'number' | 'boolean'>(
  body: Record<string, unknown>,
  name: string,
  type: T,
  required = false,
): (T extends 'string' ? string : T extends 'number' ? number : boolean) | undefined {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw new ApiError(400, `${name} is required`);
    return undefined;
  }
  if (typeof v !== type) throw new ApiError(400, `${name} must be a ${type}`);
  return v as never;
}

export function paging(url: URL): { limit: number; offset: number } {
  const limit = Number(url.searchParams.get('limit') ?? 100);
  const offset = Number(url.searchParams.get('offset') ?? 0);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError(400, 'limit must be an integer 1–1000');
  if (!Number.isInteger(offset) || offset < 0) throw new ApiError(400, 'offset must be a non-negative integer');
  return { limit, offset };
}

/** A DM value in JSON: text as it is, bytes (bin, b64) as {base64, format}. */
export const dataView = (data: unknown, format?: string): unknown =>
  data instanceof Uint8Array ? { base64: Buffer.from(data).toString('base64'), format } : data;
