// Raw public keys (RFC 7250) with TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 on P-256: libcoap's GnuTLS
// client (-M, its RPK mode) against our server, an untrusted client key refused, and our client
// against our server with resumption. (Debian's OpenSSL 3.0 has no RPK: it came in 3.2.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { connectDtls, createDtlsServer, type DtlsConnection, Suite, spkiOf } from '../../../src/transport/dtls/index.ts';

const run = promisify(execFile);
const GNUTLS = '/usr/bin/coap-client-gnutls';
const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

async function rpkServer(trusted: Buffer[]) {
  const keys = p256();
  const server = createDtlsServer({
    port: 0,
    psk: () => undefined,
    rpk: { ...keys, trustedClientKey: (spki) => trusted.some((t) => t.equals(spki)) },
  });
  const address = await server.listen();
  server.on('connection', (c: DtlsConnection) => c.on('message', (m: Buffer) => c.send(m)));
  return { server, address, spki: spkiOf(keys.publicKey) };
}

test('coap-client-gnutls with a raw public key completes an ECDHE_ECDSA_AES_128_CCM_8 handshake; its key is the identity', {
  skip: existsSync(GNUTLS) ? false : `${GNUTLS} is missing: apt-get install -y libcoap3-bin`,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-rpk-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const client = p256();
  const pem = join(dir, 'client.pem');
  writeFileSync(pem, client.privateKey.export({ type: 'sec1', format: 'pem' }));
  const clientSpki = spkiOf(createPublicKey(createPrivateKey(client.privateKey.export({ type: 'sec1', format: 'pem' }))));
  const { server, address } = await rpkServer([clientSpki]);
  t.after(() => server.close());
  const connected = once(server, 'connection', { signal: AbortSignal.timeout(10_000) }) as Promise<[DtlsConnection]>;
  const heard = connected.then(([c]) => once(c, 'message', { signal: AbortSignal.timeout(10_000) }));
  await run(GNUTLS, ['-M', pem, '-m', 'get', '-B', '2', `coaps://${address.host}:${address.port}/x`]).catch(() => undefined);
  const [conn] = await connected;
  assert.equal(conn.suite, Suite.ECDHE_ECDSA_AES_128_CCM_8);
  assert.ok(conn.identity?.equals(clientSpki), 'the identity is the client key');
  const [coap] = (await heard) as [Buffer];
  assert.equal(coap[0]! >> 6, 1, 'a CoAP message came through');
  // a key the server does not trust gets access_denied
  const stranger = join(dir, 'stranger.pem');
  writeFileSync(stranger, p256().privateKey.export({ type: 'sec1', format: 'pem' }));
  const failed = once(server, 'handshakeFailed', { signal: AbortSignal.timeout(10_000) }) as Promise<[{ reason: string }]>;
  await run(GNUTLS, ['-M', stranger, '-m', 'get', '-B', '2', `coaps://${address.host}:${address.port}/x`]).catch(() => undefined);
  assert.match((await failed)[0].reason, /not trusted/);
  assert.equal(server.stats().fullHandshakes, 1);
});

test('our client with a raw public key: handshake, data, resumption; an untrusted server key is refused', async (t) => {
  const client = p256();
  const { server, address, spki } = await rpkServer([spkiOf(client.publicKey)]);
  t.after(() => server.close());
  const rpk = { ...client, trustedServerKey: (k: Buffer) => k.equals(spki) };
  const c1 = await connectDtls({ host: address.host, port: address.port, rpk });
  assert.equal(c1.suite, Suite.ECDHE_ECDSA_AES_128_CCM_8);
  const echoed = once(c1, 'message', { signal: AbortSignal.timeout(10_000) }) as Promise<[Buffer]>;
  c1.send(Buffer.from('rpk'));
  assert.equal((await echoed)[0].toString(), 'rpk');
  const session = c1.session!;
  c1.close();
  // an abbreviated handshake ends at the server when the client's Finished arrives
  const atServer = once(server, 'connection', { signal: AbortSignal.timeout(10_000) });
  const c2 = await connectDtls({ host: address.host, port: address.port, rpk, session });
  assert.equal(c2.resumed, true);
  await atServer;
  c2.close();
  assert.deepEqual([server.stats().fullHandshakes, server.stats().resumedHandshakes], [1, 1]);
  await assert.rejects(
    connectDtls({ host: address.host, port: address.port, rpk: { ...client, trustedServerKey: () => false } }),
    /not trusted/,
  );
});
