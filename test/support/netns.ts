// A test network of Linux network namespaces, built in the test and removed after it:
//   wan (198.51.100.1)  ──  gw (198.51.100.2 | 203.0.113.1, masquerading LAN→WAN)  ──  lan (203.0.113.2)
// The wan side has no route to 203.0.113.0/24: a server there cannot reach the LAN. Only these
// documentation addresses and loopback are used. Needs root (CI has it) and iproute2 + iptables.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestNet {
  readonly wan: string;
  readonly gw: string;
  readonly lan: string;
  readonly addr: { readonly server: string; readonly gwWan: string; readonly gwLan: string; readonly device: string };
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

export async function createTestNet(): Promise<TestNet> {
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
  const wan = `gwmo-wan-${tag}`;
  const gw = `gwmo-gw-${tag}`;
  const lan = `gwmo-lan-${tag}`;
  const net: TestNet = {
    wan, gw, lan,
    addr: { server: '198.51.100.1', gwWan: '198.51.100.2', gwLan: '203.0.113.1', device: '203.0.113.2' },
    exec: (ns, argv) => ['ip', 'netns', 'exec', ns, ...argv],
    async remove() {
      for (const ns of [wan, gw, lan]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    },
  };
  try {
    await sh('ip', 'netns', 'add', wan);
  } catch (err) {
    throw new Error(`cannot create network namespaces (${(err as Error).message}); these tests need root and iproute2 (CI runs as root)`);
  }
  try {
    await sh('ip', 'netns', 'add', gw);
    await sh('ip', 'netns', 'add', lan);
    // veth pairs: wan ↔ gw, gw ↔ lan
    await sh('ip', 'link', 'add', `w${tag}a`, 'netns', wan, 'type', 'veth', 'peer', 'name', `w${tag}b`, 'netns', gw);
    await sh('ip', 'link', 'add', `l${tag}a`, 'netns', gw, 'type', 'veth', 'peer', 'name', `l${tag}b`, 'netns', lan);
    const inNs = (ns: string, ...argv: string[]) => sh('ip', 'netns', 'exec', ns, ...argv);
    for (const ns of [wan, gw, lan]) await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    await inNs(wan, 'ip', 'addr', 'add', '198.51.100.1/24', 'dev', `w${tag}a`);
    await inNs(wan, 'ip', 'link', 'set', `w${tag}a`, 'up');
    await inNs(gw, 'ip', 'addr', 'add', '198.51.100.2/24', 'dev', `w${tag}b`);
    await inNs(gw, 'ip', 'link', 'set', `w${tag}b`, 'up');
    await inNs(gw, 'ip', 'addr', 'add', '203.0.113.1/24', 'dev', `l${tag}a`);
    await inNs(gw, 'ip', 'link', 'set', `l${tag}a`, 'up');
    await inNs(lan, 'ip', 'addr', 'add', '203.0.113.2/24', 'dev', `l${tag}b`);
    await inNs(lan, 'ip', 'link', 'set', `l${tag}b`, 'up');
    await inNs(lan, 'ip', 'route', 'add', 'default', 'via', '203.0.113.1');
    await inNs(gw, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    try {
      await inNs(gw, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', `w${tag}b`, '-j', 'MASQUERADE');
    } catch (err) {
      throw new Error(`${(err as Error).message}; install iptables (apt-get install iptables)`);
    }
  } catch (err) {
    await net.remove();
    throw err;
  }
  return net;
}
