// A gateway or device proving itself outside a DM session (the push channel, image downloads): HTTP
// Basic with the DM credentials the server keeps for its account, `<ClientName>:<password>`.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

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
