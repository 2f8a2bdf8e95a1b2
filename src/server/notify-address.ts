// Where a device takes its Package#0. It says which UDP port it listens on (DevInfo/Ext/NotifyPort)
// and, when it listens on one address, which address (DevInfo/Ext/NotifyAddr, host:port; gwmo
// extensions). A host with two addresses may post its HTTP from one and listen on the other: the
// source address would then send its notifications to whoever listens there. The reported address
// is taken only where it can be right: loopback from loopback, the source address itself, or an
// address on one of this host's own networks (the gateway's LAN); anything else (a private address
// behind a NAT, a forged one elsewhere) is ignored and the source address used.
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface NotifyChoice {
  readonly address: string | undefined;
  /** a reported NotifyAddr that was not used, and why */
  readonly ignored?: { readonly reported: string; readonly reason: string };
}

const LOOPBACK = /^(127\.|::1$)/;

function localNetworks(): BlockList {
  const list = new BlockList();
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      const [net, bits] = (a.cidr ?? '').split('/');
      if (net && bits) list.addSubnet(net, Number(bits), a.family === 'IPv6' ? 'ipv6' : 'ipv4');
    }
  }
  return list;
}

function hostPort(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !isIP(m[1]!) || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

const join = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

export function notifyAddressOf(
  devInfo: Readonly<Record<string, string>>,
  from: string | undefined,
  networks: () => BlockList = localNetworks,
): NotifyChoice {
  const source = from?.replace(/^::ffff:/, '');
  const port = Number(devInfo['Ext/NotifyPort']);
  const fallback = Number.isInteger(port) && port > 0 && port < 65536 && source ? join(source, port) : undefined;
  const reported = devInfo['Ext/NotifyAddr'];
  if (reported === undefined) return { address: fallback };
  const r = hostPort(reported);
  if (!r) return { address: fallback, ignored: { reported, reason: 'not an IP address and port' } };
  const local = LOOPBACK.test(r.host)
    ? source !== undefined && LOOPBACK.test(source)
    : r.host === source || networks().check(r.host, isIP(r.host) === 6 ? 'ipv6' : 'ipv4');
  if (!local) return { address: fallback, ignored: { reported, reason: 'not on a network of this host' } };
  return { address: join(r.host, r.port) };
}
