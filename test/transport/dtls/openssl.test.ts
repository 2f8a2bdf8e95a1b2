// Our DTLS server against OpenSSL's client, and our client against OpenSSL's server (Debian's
// openssl 3), in each PSK suite: handshake, application data both ways, a wrong key refused.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import { connectDtls, createDtlsServer, type DtlsConnection, Suite } from '../../../src/transport/dtls/index.ts';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const SUITES = [
  ['PSK-AES128-CCM8', Suite.PSK_AES_128_CCM_8],
  ['PSK-AES128-CBC-SHA256', Suite.PSK_AES_128_CBC_SHA256],
] as const;

/** Resolves when the process's stdout has matched, rejects when it exits first or after 10 s. */
function output(p: ChildProcess, match: RegExp): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${match} in 10 s: ${text}`)), 10_000);
    const check = (chunk: Buffer): void => {
      text += chunk.toString();
      if (match.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    };
    p.stdout!.on('data', check);
    p.stderr!.on('data', check);
    p.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited without ${match}: ${text}`));
    });
  });
}

function kill(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  const gone = once(p, 'exit').then(() => undefined);
  p.kill();
  return gone;
}

async function echoServer() {
  const server = createDtlsServer({ port: 0, psk: (id) => (id.toString() === 'dev1' ? KEY : undefined) });
  const address = await server.listen();
  server.on('connection', (c: DtlsConnection) => c.on('message', (m: Buffer) => c.send(Buffer.concat([Buffer.from('pong:'), m]))));
  return { server, address };
}

for (const [name, suite] of SUITES) {
  test(`openssl s_client -dtls1_2 -cipher ${name} completes a handshake with our server and gets its data echoed`, async (t) => {
    const { server, address } = await echoServer();
    t.after(() => server.close());
    const connected = once(server, 'connection', { signal: AbortSignal.timeout(10_000) }) as Promise<[DtlsConnection]>;
    const client = spawn('openssl', [
      's_client',
      '-dtls1_2',
      '-connect',
      `${address.host}:${address.port}`,
      '-psk_identity',
      'dev1',
      '-psk',
      KEY.toString('hex'),
      '-cipher',
      name,
      '-quiet',
    ]);
    t.after(() => kill(client));
    const echoed = output(client, /pong:ping/);
    client.stdin.write('ping\n');
    const [conn] = await connected;
    assert.equal(conn.identity?.toString(), 'dev1');
    assert.equal(conn.suite, suite);
    await echoed;
    assert.equal(server.stats().fullHandshakes, 1);
    assert.equal(server.stats().helloVerifyRequests, 1, 'the first ClientHello got a cookie, not state');
  });

  test(`our client completes a ${name} handshake with openssl s_server -dtls1_2 -nocert and exchanges data both ways`, async (t) => {
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    const server = spawn('openssl', [
      's_server',
      '-dtls1_2',
      '-accept',
      // host:port: with the port alone s_server binds the wildcard twice (IPv6 dual-stack, then IPv4) and fails here
      `127.0.0.1:${port}`,
      '-nocert',
      '-psk',
      KEY.toString('hex'),
      '-cipher',
      name,
    ]);
    t.after(() => kill(server));
    await output(server, /ACCEPT/);
    const heard = output(server, /hello-from-gwmo/);
    const conn = await connectDtls({ host: '127.0.0.1', port, psk: { identity: 'anyone', key: KEY }, suites: [suite] });
    t.after(() => conn.close());
    assert.equal(conn.suite, suite);
    conn.send(Buffer.from('hello-from-gwmo\n'));
    await heard;
    const got = once(conn, 'message', { signal: AbortSignal.timeout(10_000) }) as Promise<[Buffer]>;
    server.stdin.write('hello-from-openssl\n');
    assert.equal((await got)[0].toString(), 'hello-from-openssl\n');
  });
}

test('openssl s_client with a wrong key gets no association; the server keeps no state for it', async (t) => {
  const { server, address } = await echoServer();
  t.after(() => server.close());
  const failed = once(server, 'handshakeFailed', { signal: AbortSignal.timeout(10_000) }) as Promise<[{ reason: string }]>;
  const client = spawn('openssl', [
    's_client',
    '-dtls1_2',
    '-connect',
    `${address.host}:${address.port}`,
    '-psk_identity',
    'dev1',
    '-psk',
    'ffeeddccbbaa99887766554433221100',
    '-cipher',
    'PSK-AES128-CCM8',
  ]);
  t.after(() => kill(client));
  const alerted = output(client, /alert|error/i);
  const [{ reason }] = await failed;
  assert.match(reason, /did not authenticate|does not verify/);
  await alerted;
  assert.equal(server.stats().peers, 0);
  assert.equal(server.stats().established, 0);
});
