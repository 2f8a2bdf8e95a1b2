// npm run bench -- forward [requests] [concurrency]: the CPU one forwarded DM message costs the
// forwarding instance's HTTP client alone, fetch (undici, what session-forward.ts used first)
// against DmHttpClient.exchange (node:http, kept-alive sockets, what it uses now). The owner is a
// plain node:http server in another process answering a DM-sized reply, so only the client's side
// is counted (process.cpuUsage of this process).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { DmHttpClient } from '../src/transport/index.ts';

const REQUESTS = 20_000;
const CONCURRENCY = 16;
const ROUNDS = 3;
const BODY = new Uint8Array(600).fill(60);

const OWNER = `
const http = require('node:http');
const reply = Buffer.alloc(900, 62);
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/vnd.syncml.dm+xml', 'content-length': reply.length });
    res.end(reply);
  });
});
s.keepAliveTimeout = 30000;
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

type Post = (url: string) => Promise<number>;

async function measure(post: Post, url: string, requests: number, concurrency: number): Promise<number> {
  let left = requests;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) if ((await post(url)) !== 200) throw new Error('the owner did not answer 200');
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / requests;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function main(args: string[]): Promise<void> {
  const requests = Number(args[0] ?? REQUESTS);
  const concurrency = Number(args[1] ?? CONCURRENCY);
  const owner = spawn(process.execPath, ['-e', OWNER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve) => createInterface({ input: owner.stdout! }).once('line', resolve));
    const url = `http://127.0.0.1:${port}/dm?s=x.y`;
    const headers = { 'content-type': 'application/vnd.syncml.dm+xml', 'x-gwmo-forward': `${Date.now()} 127.0.0.1 ${'a'.repeat(43)}` };
    const viaFetch: Post = async (to) => {
      const res = await fetch(to, { method: 'POST', headers, body: BODY, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      return res.status;
    };
    const client = new DmHttpClient({ maxSockets: 32, timeoutMs: 30_000 });
    const viaHttp: Post = async (to) => (await client.exchange(to, BODY, headers)).status;
    // warm both up (JIT, sockets), then alternate so the machine's other load hits both alike
    await measure(viaFetch, url, 2_000, concurrency);
    await measure(viaHttp, url, 2_000, concurrency);
    const fetchUs: number[] = [];
    const httpUs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      fetchUs.push(await measure(viaFetch, url, requests, concurrency));
      httpUs.push(await measure(viaHttp, url, requests, concurrency));
    }
    client.close();
    console.log(`RESULT forward_fetch_cpu_us_per_message ${median(fetchUs).toFixed(0)}`);
    console.log(`RESULT forward_http_cpu_us_per_message ${median(httpUs).toFixed(0)}`);
    console.log(`RESULT forward_http_vs_fetch_cpu ${(median(httpUs) / median(fetchUs)).toFixed(3)}`);
  } finally {
    owner.kill();
  }
}
