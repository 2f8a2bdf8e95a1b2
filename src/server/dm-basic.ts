// A gateway or device proving itself outside a DM session (the push channel, image downloads): HTTP
// Basic with the DM credentials the server keeps for its account, `<ClientName>:<password>`.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import { AuthScheme } from '../protocol/index.ts';
import type { AuthGuard } from '../session/server/index.ts';
import type { DeviceRow } from '../store/server.ts';

function basic(req: IncomingMessage): Buffer | undefined {
  const b64 = /^Basic (\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64');
}

/** The user name of an HTTP Basic header, if there is one. */
export function basicUser(req: IncomingMessage): string | undefined {
  const given = basic(req)?.toString('utf8');
  return given === undefined || !given.includes(':') ? undefined : given.slice(0, given.indexOf(':'));
}

/** True when the request carries `device`'s DM credentials; compared in constant time, an unknown device included. */
export function hasDmCredentials(req: IncomingMessage, device: DeviceRow | undefined): boolean {
  const given = basic(req) ?? Buffer.alloc(0);
  const expected = device ? Buffer.from(`${device.clientName}:${device.clientPassword}`) : Buffer.alloc(1);
  const same = given.length === expected.length && timingSafeEqual(given, expected);
  return device !== undefined && same;
}

export type DmBasicVerdict = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 429; readonly retryAfterS?: number };

/**
 * HTTP Basic with DM credentials, counted like DM sessions are (the same guard, the same keys): a
 * password guessed at /push or /images is a password guessed at /dm, so it meets the same delay and
 * lock. A request without a Basic header is not a guess and is not counted.
 */
export function guardedDmBasic(guard: AuthGuard, lookup: (deviceId: string) => Promise<DeviceRow | undefined>) {
  return async (req: IncomingMessage, deviceId: string): Promise<DmBasicVerdict> => {
    const address = req.socket.remoteAddress;
    const wait = await guard.retryAfter(deviceId, address);
    if (wait > 0) return { ok: false, status: 429, retryAfterS: Math.ceil(wait / 1000) };
    const device = await lookup(deviceId);
    if (hasDmCredentials(req, device)) {
      await guard.succeeded(deviceId, address);
      return { ok: true };
    }
    if (basic(req) !== undefined)
      await guard.failed({ deviceId, address, scheme: AuthScheme.Basic, reason: device ? 'credentials' : 'unknown-device' });
    return { ok: false, status: 401 };
  };
}
