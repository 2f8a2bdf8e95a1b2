// Enrolment of gateways the server does not know yet (HLF-002's "B obtains an account"): a gateway
// presenting the server's enrolment credential gets a DM account with fresh random secrets, once.
// POST /enrol {"deviceId": "...", "enrolmentSecret": "..."} → 201 {name, password, serverId, serverPassword}.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { FailureLimiter } from './failure-limiter.ts';
import { identifierProblem } from './identifiers.ts';
import type { ServerService } from './service.ts';

function same(a: string, b: string): boolean {
  // hash first: equal lengths, constant time whatever was sent
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
    .end(text);
}

/** wrong enrolment credentials from one address before it is locked (30 s, doubling: FailureLimiter) */
const ENROL_TRIES = 10;

export async function handleEnrol(
  req: IncomingMessage,
  res: ServerResponse,
  service: ServerService,
  secret: string | undefined,
  limiter: FailureLimiter,
  log?: (e: string, f: Record<string, unknown>) => void,
): Promise<void> {
  if (req.method !== 'POST') return send(res, 405, { error: 'POST {"deviceId","enrolmentSecret"}' });
  if (secret === undefined) return send(res, 404, { error: 'this server does not enrol gateways (start it with --enrolment-secret)' });
  // the enrolment secret is guessed like a password: counted per address, shared by the instances
  const key = `enrol:a:${req.socket.remoteAddress ?? ''}`;
  const wait = await limiter.retryAfter([key], Date.now());
  if (wait > 0) {
    res.setHeader('retry-after', String(Math.ceil(wait / 1000)));
    return send(res, 429, { error: `too many wrong enrolment credentials from this address; try again in ${Math.ceil(wait / 1000)} s` });
  }
  let body: { deviceId?: unknown; enrolmentSecret?: unknown };
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 4096) return send(res, 413, { error: 'body over 4 KiB' });
      chunks.push(c as Buffer);
    }
    body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    if (body === null || typeof body !== 'object') throw new TypeError('not an object');
  } catch {
    return send(res, 400, { error: 'body must be JSON {"deviceId","enrolmentSecret"}' });
  }
  const problem = identifierProblem(body.deviceId, 'deviceId');
  if (problem) return send(res, 400, { error: problem });
  if (typeof body.enrolmentSecret !== 'string' || !same(body.enrolmentSecret, secret)) {
    log?.('enrol.refused', { deviceId: body.deviceId, from: req.socket.remoteAddress });
    await limiter.failed([{ key, limit: ENROL_TRIES }], Date.now());
    return send(res, 403, { error: 'wrong enrolment credential' });
  }
  const password = randomBytes(18).toString('base64url');
  const serverPassword = randomBytes(18).toString('base64url');
  const name = `enrolled-${randomBytes(4).toString('hex')}`;
  // the store decides in one statement: an account that exists is never replaced
  const { created } = await service.ensureDevice({
    deviceId: body.deviceId as string,
    name,
    password,
    serverName: service.serverId,
    serverPassword,
    scheme: 'md5',
  });
  if (!created) return send(res, 409, { error: `${body.deviceId as string} already has an account; an administrator can remove it first` });
  log?.('enrol.accepted', { deviceId: body.deviceId });
  send(res, 201, { deviceId: body.deviceId, name, password, serverId: service.serverId, serverPassword });
}
