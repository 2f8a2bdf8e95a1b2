// Fuzzing of the DTLS record and handshake parsers and of the server's datagram handler, in
// process: a client and a server joined by an in-memory link make real handshakes whose datagrams
// (valid cookies included) are the corpus; mutations of them go to the parsers and to the server
// from the address of an established association, of a handshake under way and of strangers.
import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';

import { connectDtls, createDtlsServer, type DtlsServerStats } from '../../src/transport/dtls/index.ts';
import { parseClientHello, parseFragments, parseServerHello } from '../../src/transport/dtls/handshake.ts';
import { parseRecords } from '../../src/transport/dtls/record.ts';
import { DtlsDecodeError } from '../../src/transport/dtls/wire.ts';
import { type FuzzReport, fuzz, mutate, Rng } from './fuzz.ts';

const KEY = Buffer.from('fuzzing-psk-0123');
const SERVER = { address: '10.0.0.1', port: 5684 };

type Deliver = (d: Buffer, from: { address: string; port: number }, toPort: number) => void;

/** a dgram-shaped socket whose sends go to `deliver` at once */
function memorySocket(self: { address: string; port: number }, deliver: () => Deliver): Socket {
  const s = new EventEmitter() as EventEmitter & Record<string, unknown>;
  s.send = (d: Buffer, port: number, _host: string, cb?: () => void): void => {
    const copy = Buffer.from(d);
    queueMicrotask(() => deliver()(copy, self, port));
    cb?.();
  };
  s.address = () => ({ ...self, family: 'IPv4' });
  s.close = () => {};
  return s as unknown as Socket;
}

/** Parses like the server does, as far as the bytes go: records, fragments, hellos. */
export function parseAll(b: Uint8Array): unknown {
  const out: unknown[] = [];
  for (const r of parseRecords(Buffer.from(b))) {
    if (r.type !== 22) continue;
    for (const f of parseFragments(r.fragment)) {
      if (f.offset !== 0 || f.body.length !== f.length) continue;
      if (f.type === 1) out.push(parseClientHello(f.body));
      if (f.type === 2) out.push(parseServerHello(f.body));
    }
  }
  return out;
}

export interface DtlsFuzzReport {
  readonly parsers: FuzzReport;
  readonly datagrams: number;
  readonly stats: DtlsServerStats;
}

export async function fuzzDtls(runs: number, seed: number): Promise<DtlsFuzzReport> {
  // once the corpus is recorded the server's answers go nowhere (the fuzz loop is synchronous: they would pile up)
  let answering = true;
  const serverSocket = memorySocket(SERVER, () => (d, from, to) => {
    if (answering) clients.get(to)?.emit('message', d, { ...from, family: 'IPv4', size: d.length });
  });
  const clients = new Map<number, Socket>();
  const server = createDtlsServer({
    socket: serverSocket,
    psk: (id) => (id.toString() === 'dev' ? KEY : undefined),
    handshakeTimeoutMs: 60_000,
  });
  await server.listen();
  const corpus: Buffer[] = [];
  /** a real handshake from `port`, recording what the client sent */
  const handshake = async (port: number, session?: Parameters<typeof connectDtls>[0]['session']) => {
    const from = { address: '10.0.0.2', port };
    const socket = memorySocket(from, () => (d) => {
      corpus.push(d);
      serverSocket.emit('message', d, { ...from, family: 'IPv4', size: d.length });
    });
    clients.set(port, socket);
    const c = await connectDtls({
      host: SERVER.address,
      port: SERVER.port,
      socket,
      psk: { identity: 'dev', key: KEY },
      ...(session ? { session } : {}),
    });
    c.send(Buffer.from('application data'));
    return c;
  };
  const first = await handshake(1000);
  await handshake(1001, first.session);
  answering = false;
  const ports = [1000, 1001, 1002, 1003];
  const rng = new Rng(seed);
  let datagrams = 0;
  // the same mutations go to the parsers (whose only refusal is DtlsDecodeError) and to the server
  const parsers = fuzz(
    (b) => {
      const d = Buffer.from(b);
      serverSocket.emit('message', d, { address: '10.0.0.2', port: ports[rng.below(ports.length)]!, family: 'IPv4', size: d.length });
      datagrams++;
      if (datagrams % 1000 === 0) {
        // from time to time a fresh handshake, so mutations meet every state
        const extra = corpus[rng.below(corpus.length)]!;
        serverSocket.emit('message', mutate(rng, extra, extra), { address: '10.0.0.2', port: 1002, family: 'IPv4', size: extra.length });
      }
      return parseAll(b);
    },
    corpus,
    runs,
    seed,
    (err) => err instanceof DtlsDecodeError,
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
  const stats = server.stats();
  await server.close();
  return { parsers, datagrams, stats };
}
