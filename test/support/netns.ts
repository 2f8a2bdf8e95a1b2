// A test network of Linux network namespaces, built in the test and removed after it:
//   wan (198.51.100.1)  ──  gw (198.51.100.2 | 203.0.113.1, masquerading LAN→WAN)  ──  lan (203.0.113.2)
// With `edgeNat`, the gateway itself sits behind a second masquerade (HLF-001):
//   wan (198.51.100.1) ── edge (198.51.100.2 | 192.0.2.1) ── gw (192.0.2.2 | 203.0.113.1) ── lan (203.0.113.2)
// The wan side has no route to 203.0.113.0/24: a server there cannot reach the LAN. Only these
// documentation addresses and loopback are used. Needs root (CI has it) and iproute2 + iptables.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestNet {
  readonly wan: string;
  readonly gw: string;
  readonly lan: string;
  readonly edge?: string;
  readonly addr: { readonly server: string; readonly gwWan: string; readonly gwLan: string; readonly device: string; readonly edge?: string };
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

export async function createTestNet(options: { edgeNat?: boolean } = {}): Promise<TestNet> {
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
  const wan = `gwmo-wan-${tag}`;
  const gw = `gwmo-gw-${tag}`;
  const lan = `gwmo-lan-${tag}`;
  const edge = options.edgeNat ? `gwmo-edge-${tag}` : undefined;
  const gwWan = edge ? '192.0.2.2' : '198.51.100.2';
  const net: TestNet = {
    wan, gw, lan, ...(edge ? { edge } : {}),
    addr: { server: '198.51.100.1', gwWan, gwLan: '203.0.113.1', device: '203.0.113.2', ...(edge ? { edge: '198.51.100.2' } : {}) },
    exec: (ns, argv) => ['ip', 'netns', 'exec', ns, ...argv],
    async remove() {
      for (const ns of [wan, gw, lan, ...(edge ? [edge] : [])]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    },
  };
  try {
    await sh('ip', 'netns', 'add', wan);
  } catch (err) {
    throw new Error(`cannot create network namespaces (${(err as Error).message}); these tests need root and iproute2 (CI runs as root)`);
  }
  const inNs = (ns: string, ...argv: string[]) => sh('ip', 'netns', 'exec', ns, ...argv);
  /** a veth pair between two namespaces with an address (/24) on each end */
  const link = async (name: string, a: string, aAddr: string, b: string, bAddr: string): Promise<string> => {
    await sh('ip', 'link', 'add', `${name}a`, 'netns', a, 'type', 'veth', 'peer', 'name', `${name}b`, 'netns', b);
    await inNs(a, 'ip', 'addr', 'add', `${aAddr}/24`, 'dev', `${name}a`);
    await inNs(a, 'ip', 'link', 'set', `${name}a`, 'up');
    await inNs(b, 'ip', 'addr', 'add', `${bAddr}/24`, 'dev', `${name}b`);
    await inNs(b, 'ip', 'link', 'set', `${name}b`, 'up');
    return `${name}b`;
  };
  const masquerade = async (ns: string, out: string): Promise<void> => {
    await inNs(ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    try {
      await inNs(ns, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', out, '-j', 'MASQUERADE');
    } catch (err) {
      throw new Error(`${(err as Error).message}; install iptables (apt-get install iptables)`);
    }
  };
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
