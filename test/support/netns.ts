// A test network of Linux network namespaces, built in the test and removed after it:
//   wan (198.51.100.1)  ──  gw (198.51.100.2 | 203.0.113.1, masquerading LAN→WAN)  ──  lan (203.0.113.2)
// With `edgeNat`, the gateway itself sits behind a second masquerade (HLF-001):
//   wan (198.51.100.1) ── edge (198.51.100.2 | 192.0.2.1) ── gw (192.0.2.2 | 203.0.113.1) ── lan (203.0.113.2)
// The wan side has no route to 203.0.113.0/24: a server there cannot reach the LAN. Only these
// documentation addresses and loopback are used. Needs root (CI has it) and iproute2 + iptables.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestNet {
  readonly wan: string;
  readonly gw: string;
  readonly lan: string;
  readonly edge?: string;
  readonly addr: {
    readonly server: string;
    readonly gwWan: string;
    readonly gwLan: string;
    readonly device: string;
    readonly edge?: string;
  };
  /** argv prefix to run a command inside a namespace */
  exec(ns: string, argv: readonly string[]): string[];
  remove(): Promise<void>;
}

async function sh(...argv: string[]): Promise<void> {
  try {
    await run(argv[0]!, argv.slice(1));
  } catch (err) {
    throw new Error(`${argv.join(' ')} failed: ${(err as { stderr?: string }).stderr?.trim() ?? String(err)}`);
  }
}

const inNs = (ns: string, ...argv: string[]): Promise<void> => sh('ip', 'netns', 'exec', ns, ...argv);

/** A veth pair between two namespaces with an address on each end (`null`: none, e.g. a bridge port). */
async function link(name: string, a: string, aAddr: string | null, b: string, bAddr: string | null, prefix = 24): Promise<string> {
  await sh('ip', 'link', 'add', `${name}a`, 'netns', a, 'type', 'veth', 'peer', 'name', `${name}b`, 'netns', b);
  if (aAddr) await inNs(a, 'ip', 'addr', 'add', `${aAddr}/${prefix}`, 'dev', `${name}a`);
  await inNs(a, 'ip', 'link', 'set', `${name}a`, 'up');
  if (bAddr) await inNs(b, 'ip', 'addr', 'add', `${bAddr}/${prefix}`, 'dev', `${name}b`);
  await inNs(b, 'ip', 'link', 'set', `${name}b`, 'up');
  return `${name}b`;
}

async function masquerade(ns: string, out: string): Promise<void> {
  await inNs(ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  try {
    await inNs(ns, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', out, '-j', 'MASQUERADE');
  } catch (err) {
    throw new Error(`${(err as Error).message}; install iptables (apt-get install iptables)`);
  }
}

/** The first namespace: a failure here means the machine cannot do this at all, said plainly. */
async function firstNamespace(ns: string): Promise<void> {
  try {
    await sh('ip', 'netns', 'add', ns);
  } catch (err) {
    throw new Error(`cannot create network namespaces (${(err as Error).message}); these tests need root and iproute2 (CI runs as root)`);
  }
}

const newTag = (): string => `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;

export async function createTestNet(options: { edgeNat?: boolean } = {}): Promise<TestNet> {
  const tag = newTag();
  const wan = `gwmo-wan-${tag}`;
  const gw = `gwmo-gw-${tag}`;
  const lan = `gwmo-lan-${tag}`;
  const edge = options.edgeNat ? `gwmo-edge-${tag}` : undefined;
  const gwWan = edge ? '192.0.2.2' : '198.51.100.2';
  const net: TestNet = {
    wan,
    gw,
    lan,
    ...(edge ? { edge } : {}),
    addr: { server: '198.51.100.1', gwWan, gwLan: '203.0.113.1', device: '203.0.113.2', ...(edge ? { edge: '198.51.100.2' } : {}) },
    exec: (ns, argv) => ['ip', 'netns', 'exec', ns, ...argv],
    async remove() {
      for (const ns of [wan, gw, lan, ...(edge ? [edge] : [])]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    },
  };
  await firstNamespace(wan);
  try {
    for (const ns of [gw, lan, ...(edge ? [edge] : [])]) await sh('ip', 'netns', 'add', ns);
    for (const ns of [wan, gw, lan, ...(edge ? [edge] : [])]) await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    if (edge) {
      const edgeWan = await link(`w${tag}`, wan, '198.51.100.1', edge, '198.51.100.2');
      // edge's LAN side is the gateway's WAN
      const gwOut = await link(`e${tag}`, edge, '192.0.2.1', gw, '192.0.2.2');
      await inNs(gw, 'ip', 'route', 'add', 'default', 'via', '192.0.2.1');
      await masquerade(edge, edgeWan);
      await link(`l${tag}`, gw, '203.0.113.1', lan, '203.0.113.2');
      await masquerade(gw, gwOut);
    } else {
      const gwOut = await link(`w${tag}`, wan, '198.51.100.1', gw, '198.51.100.2');
      await link(`l${tag}`, gw, '203.0.113.1', lan, '203.0.113.2');
      await masquerade(gw, gwOut);
    }
    await inNs(lan, 'ip', 'route', 'add', 'default', 'via', '203.0.113.1');
  } catch (err) {
    await net.remove();
    throw err;
  }
  return net;
}

// Two gateways on one WAN, each masquerading its own LAN, and a roaming namespace whose single link
// is moved from one gateway's LAN to the other's (the device "walks" to the other site):
//   wan bridge 198.51.100.0/24: server .1, gw-a .2, gw-b .3
//   gw-a ── bridge 203.0.113.1/25   ── lan-a (203.0.113.2),   roam while at A (203.0.113.3)
//   gw-b ── bridge 203.0.113.129/25 ── lan-b (203.0.113.130), roam while at B (203.0.113.131)
// Neither LAN is routed from the WAN or from the other LAN: everything leaves through a masquerade.
export type Site = 'a' | 'b';

export interface TwoGatewayNet {
  readonly wan: string;
  readonly gw: Readonly<Record<Site, string>>;
  readonly lan: Readonly<Record<Site, string>>;
  /** the nomadic device's namespace */
  readonly roam: string;
  readonly addr: {
    readonly server: string;
    readonly gwWan: Readonly<Record<Site, string>>;
    readonly gwLan: Readonly<Record<Site, string>>;
    readonly lan: Readonly<Record<Site, string>>;
    readonly roam: Readonly<Record<Site, string>>;
  };
  /** which LAN the roaming namespace is linked to now */
  readonly site: Site;
  /** unplugs the roaming namespace and plugs it into the other LAN (new address, new default route) */
  moveTo(site: Site): Promise<void>;
  exec(ns: string, argv: readonly string[]): string[];
  remove(): Promise<void>;
}

export async function createTwoGatewayNet(): Promise<TwoGatewayNet> {
  const tag = newTag();
  const ns = (name: string): string => `gwmo-${name}-${tag}`;
  const wan = ns('wan');
  const gw = { a: ns('gwa'), b: ns('gwb') };
  const lan = { a: ns('lana'), b: ns('lanb') };
  const roam = ns('roam');
  const all = [wan, gw.a, gw.b, lan.a, lan.b, roam];
  const addr = {
    server: '198.51.100.1',
    gwWan: { a: '198.51.100.2', b: '198.51.100.3' },
    gwLan: { a: '203.0.113.1', b: '203.0.113.129' },
    lan: { a: '203.0.113.2', b: '203.0.113.130' },
    roam: { a: '203.0.113.3', b: '203.0.113.131' },
  };
  let site: Site = 'a';
  let plugs = 0;
  const bridge = async (where: string, address: string, prefix: number): Promise<void> => {
    await inNs(where, 'ip', 'link', 'add', 'br0', 'type', 'bridge');
    await inNs(where, 'ip', 'addr', 'add', `${address}/${prefix}`, 'dev', 'br0');
    await inNs(where, 'ip', 'link', 'set', 'br0', 'up');
  };
  /** a veth from `where` into bridge br0 of `into`, addressed on the `where` side */
  const port = async (name: string, into: string, where: string, address: string, prefix: number): Promise<void> => {
    await link(name, into, null, where, address, prefix);
    await inNs(into, 'ip', 'link', 'set', `${name}a`, 'master', 'br0');
  };
  const plug = async (to: Site): Promise<void> => {
    const name = `r${plugs++}${tag}`;
    await port(name, gw[to], roam, addr.roam[to], 25);
    await inNs(roam, 'ip', 'route', 'add', 'default', 'via', addr.gwLan[to]);
    site = to;
  };
  const net: TwoGatewayNet = {
    wan,
    gw,
    lan,
    roam,
    addr,
    get site() {
      return site;
    },
    async moveTo(to) {
      if (to === site) return;
      // deleting one end of a veth deletes the pair, and the default route with it
      const links = await run('ip', ['-n', roam, '-o', 'link', 'show', 'type', 'veth']);
      for (const m of links.stdout.matchAll(/^\d+: ([^@:]+)/gm)) await sh('ip', '-n', roam, 'link', 'del', m[1]!);
      await plug(to);
    },
    exec: (n, argv) => ['ip', 'netns', 'exec', n, ...argv],
    async remove() {
      for (const n of all) await run('ip', ['netns', 'del', n]).catch(() => undefined);
    },
  };
  await firstNamespace(wan);
  try {
    for (const n of all.slice(1)) await sh('ip', 'netns', 'add', n);
    for (const n of all) await inNs(n, 'ip', 'link', 'set', 'lo', 'up');
    await bridge(wan, addr.server, 24);
    for (const s of ['a', 'b'] as const) {
      await port(`w${s}${tag}`, wan, gw[s], addr.gwWan[s], 24);
      await bridge(gw[s], addr.gwLan[s], 25);
      await port(`l${s}${tag}`, gw[s], lan[s], addr.lan[s], 25);
      await inNs(lan[s], 'ip', 'route', 'add', 'default', 'via', addr.gwLan[s]);
      await masquerade(gw[s], `w${s}${tag}b`);
    }
    await plug('a');
  } catch (err) {
    await net.remove();
    throw err;
  }
  return net;
}

export interface CallResult {
  readonly status: number;
  readonly json: any;
}
export interface Call {
  readonly method: string;
  readonly url: string;
  readonly body?: unknown;
}

/** HTTP calls made one after the other from inside a namespace (the test process itself has no route into them), in one process. */
export async function callsIn(ns: string, calls: readonly Call[], headers: Record<string, string> = {}): Promise<CallResult[]> {
  const script = `const out = [];
    for (const c of ${JSON.stringify(calls)}) {
      const h = { ...${JSON.stringify(headers)}, ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}) };
      const r = await fetch(c.url, { method: c.method, headers: h, ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}) });
      out.push({ status: r.status, json: await r.json().catch(() => null) });
    }
    console.log(JSON.stringify(out));`;
  const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script]);
  return JSON.parse(stdout) as CallResult[];
}

/** One HTTP call from inside a namespace. */
export async function callIn(
  ns: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<CallResult> {
  return (await callsIn(ns, [{ method, url, ...(body !== undefined ? { body } : {}) }], headers))[0]!;
}

/** Stops a namespace test's processes (newest first), then removes its network and its folder,
 * also when a process will not stop; DEBUG_NAT=1 prints what the processes logged. */
export async function tearDownNet(
  procs: readonly { stop(): Promise<unknown>; lines: readonly unknown[]; stderr: string }[],
  net: { remove(): Promise<void> } | undefined,
  dir: string,
): Promise<void> {
  if (process.env['DEBUG_NAT']) for (const p of procs) console.log(p.lines.map((l) => JSON.stringify(l)).join('\n'), p.stderr);
  try {
    for (const p of [...procs].reverse()) await p.stop();
  } finally {
    await net?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
