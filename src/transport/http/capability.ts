// Links that carry their own permission: `<expiry>.<HMAC>` over what they open, keyed by a secret
// only the issuer holds. Whoever was handed the link may use it until it expires; nobody can make
// one for something else or change the expiry (the HMAC covers both).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

/** `subject` is what the link opens (an image id); no expiry: valid as long as the key. */
export function signCapability(key: Uint8Array, subject: string, expiresAt?: number): string {
  const exp = expiresAt === undefined ? '0' : Math.ceil(expiresAt / 1000).toString(36);
  return `${exp}.${mac(key, subject, exp)}`;
}

export type CapabilityCheck = 'ok' | 'expired' | 'invalid';

export function checkCapability(key: Uint8Array, subject: string, token: string, now: number): CapabilityCheck {
  const m = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return 'invalid';
  const given = Buffer.from(m[2]!, 'base64url');
  if (!timingSafeEqual(given, Buffer.from(mac(key, subject, m[1]!), 'base64url'))) return 'invalid';
  return m[1] !== '0' && parseInt(m[1]!, 36) * 1000 <= now ? 'expired' : 'ok';
}

function mac(key: Uint8Array, subject: string, exp: string): string {
  return createHmac('sha256', key).update(`gwmo-capability\n${subject}\n${exp}`).digest('base64url');
}

/** The key kept in `path` (owner-only), made on first use: links stay valid across restarts. */
export function keyFile(path: string): Buffer {
  try {
    const key = readFileSync(path);
    if (key.length >= 32) return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  writeFileSync(path, key, { mode: 0o600 });
  chmodSync(path, 0o600); // the umask may have widened it
  return key;
}
