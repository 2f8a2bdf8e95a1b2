// The device's address behind a load balancer: X-Forwarded-For is believed only from a peer in the
// configured trusted proxies, and read from the right, past trusted hops, to the first address that
// is not one of them. Anyone else's X-Forwarded-For is ignored: a sender must not choose the address
// the per-address lockout counts (src/server/failure-limiter.ts).
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** an IPv4 peer on a dual-stack socket is ::ffff:a.b.c.d */
const plain = (address: string): string => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly cidrs: readonly string[];

  /** `cidrs`: addresses or networks (10.0.0.0/8, ::1, fd00::/8); a malformed one throws, naming it */
  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs;
    for (const cidr of cidrs) {
      const [address = '', bits, extra] = cidr.trim().split('/');
      const family = isIP(address);
      const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
      if (
        family === 0 ||
        extra !== undefined ||
        !Number.isInteger(prefix) ||
        prefix < 0 ||
        prefix > (family === 4 ? 32 : 128) ||
        bits === ''
      )
        throw new Error(`trusted proxy "${cidr}" is not an IP address or CIDR network (e.g. 10.0.0.0/8, 127.0.0.1, ::1)`);
      this.list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  trusts(address: string): boolean {
    const a = plain(address);
    const family = isIP(a);
    return family !== 0 && this.list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** the client's address: the peer's, or, from a trusted peer, the nearest untrusted hop it names */
  clientOf(req: IncomingMessage): string {
    const peer = plain(req.socket.remoteAddress ?? '');
    if (!this.trusts(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => h.trim());
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = plain(hops[i]!);
      if (isIP(hop) === 0) break; // garbage (or nothing): the last trusted hop is what is known
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}
