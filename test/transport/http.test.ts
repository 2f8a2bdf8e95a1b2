// The DM HTTP endpoint and client over real sockets on loopback.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { DmHttpClient, DmHttpServer, type DmHttpReply, type DmHttpRequest, TransportError } from '../../src/transport/index.ts';

async function withServer(
  handler: (r: DmHttpRequest) => Promise<DmHttpReply>,
  run: (url: string, server: DmHttpServer) => Promise<void>,
  extra = {},
): Promise<void> {
  const server = new DmHttpServer({ handler, maxMsgSize: 1000, ...extra });
  const { url } = await server.listen();
  try {
    await run(url, server);
  } finally {
    await server.close();
  }
}

const echo = async (r: DmHttpRequest): Promise<DmHttpReply> => ({
  body: r.body,
  encoding: r.encoding,
  ...(r.hmac ? { hmac: r.hmac } : {}),
});

function raw(
  url: string,
  options: { method?: string; type?: string; body?: Buffer; chunked?: boolean },
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'POST',
        headers: {
          ...(options.type ? { 'content-type': options.type } : {}),
          ...(options.chunked ? { 'transfer-encoding': 'chunked' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

test('content types: DM xml/wbxml (with parameters, and DS types) pass; others 415; GET 405', async () => {
  await withServer(echo, async (url) => {
    for (const [type, encoding] of [
      ['application/vnd.syncml.dm+xml', 'xml'],
      ['application/vnd.syncml.dm+wbxml', 'wbxml'],
      ['application/vnd.syncml.dm+xml; charset=utf-8', 'xml'],
      ['application/vnd.syncml+wbxml', 'wbxml'],
    ] as const) {
      const r = await raw(url, { type, body: Buffer.from('x') });
      assert.equal(r.status, 200, type);
      assert.equal(r.headers['content-type'], encoding === 'xml' ? 'application/vnd.syncml.dm+xml' : 'application/vnd.syncml.dm+wbxml');
    }
    const wrong = await raw(url, { type: 'text/xml', body: Buffer.from('x') });
    assert.equal(wrong.status, 415);
    assert.match(wrong.text, /vnd\.syncml\.dm/);
    assert.equal((await raw(url, { method: 'GET' })).status, 405);
  });
});

test('a body past MaxMsgSize is refused with 413, declared or streamed', async () => {
  await withServer(echo, async (url) => {
    assert.equal((await raw(url, { type: 'application/vnd.syncml.dm+xml', body: Buffer.alloc(1001) })).status, 413);
    assert.equal((await raw(url, { type: 'application/vnd.syncml.dm+xml', body: Buffer.alloc(5000), chunked: true })).status, 413);
    assert.equal((await raw(url, { type: 'application/vnd.syncml.dm+xml', body: Buffer.alloc(1000) })).status, 200);
  });
});

test('a handler that throws gets 500 and the server keeps serving; refusals carry their status', async () => {
  let calls = 0;
  const errors: unknown[] = [];
  await withServer(
    async (r) => {
      calls++;
      if (calls === 1) throw new Error('boom');
      if (calls === 2) return { httpStatus: 404, message: 'no such session' };
      return echo(r);
    },
    async (url) => {
      assert.equal((await raw(url, { type: 'application/vnd.syncml.dm+xml', body: Buffer.from('a') })).status, 500);
      const refused = await raw(url, { type: 'application/vnd.syncml.dm+xml', body: Buffer.from('a') });
      assert.deepEqual([refused.status, refused.text], [404, 'no such session\n']);
      assert.equal((await raw(url, { type: 'application/vnd.syncml.dm+xml', body: Buffer.from('a') })).status, 200);
    },
    { onError: (e: unknown) => errors.push(e) },
  );
  assert.equal(errors.length, 1);
});

test('client: bytes and the HMAC header pass both ways unchanged, over one kept-alive connection', async () => {
  let connections = 0;
  await withServer(echo, async (url, server) => {
    const client = new DmHttpClient();
    try {
      const body = new Uint8Array([0, 1, 2, 0xff, 0x0d, 0x0a]);
      for (let i = 0; i < 5; i++) {
        const reply = await client.post(url, { body, encoding: 'wbxml', hmac: 'algorithm=MD5, username="a", mac=AAAA' });
        assert.deepEqual(reply, { body, encoding: 'wbxml', hmac: 'algorithm=MD5, username="a", mac=AAAA' });
        connections = Math.max(connections, server.connections);
      }
    } finally {
      client.close();
    }
  });
  assert.equal(connections, 1);
});

test('client: retries 503 and succeeds; stops at once on 404; names the status', async () => {
  let calls = 0;
  await withServer(
    async (r) => (++calls < 3 ? { httpStatus: 503, message: 'busy' } : echo(r)),
    async (url) => {
      const delays: number[] = [];
      const client = new DmHttpClient({ retries: 2, retryDelay: async (n) => void delays.push(n) });
      try {
        const reply = await client.post(url, { body: new Uint8Array([1]), encoding: 'xml' });
        assert.deepEqual([...reply.body], [1]);
        assert.deepEqual(delays, [1, 2]);
      } finally {
        client.close();
      }
    },
  );
  await withServer(
    async () => ({ httpStatus: 404, message: 'gone' }),
    async (url) => {
      const client = new DmHttpClient({ retryDelay: async () => assert.fail('404 is not retried') });
      try {
        await assert.rejects(
          client.post(url, { body: new Uint8Array([1]), encoding: 'xml' }),
          (e: TransportError) => e.code === 'TRANSPORT_HTTP_STATUS' && e.httpStatus === 404 && /gone/.test(e.message),
        );
      } finally {
        client.close();
      }
    },
  );
});

test('client: a server that does not answer gives a timeout; a closed port a connect error', async () => {
  await withServer(
    () => new Promise(() => {}),
    async (url) => {
      const client = new DmHttpClient({ timeoutMs: 200, retries: 0 });
      try {
        await assert.rejects(client.post(url, { body: new Uint8Array([1]), encoding: 'xml' }), { code: 'TRANSPORT_TIMEOUT' });
      } finally {
        client.close();
      }
    },
  );
  const client = new DmHttpClient({ retries: 0 });
  await assert.rejects(client.post('http://127.0.0.1:1/dm', { body: new Uint8Array([1]), encoding: 'xml' }), { code: 'TRANSPORT_CONNECT' });
  client.close();
});

test('HTTPS with a certificate made for the test', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-tls-'));
  try {
    try {
      await promisify(execFile)('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]);
    } catch {
      t.skip('openssl is not installed');
      return;
    }
    const cert = await readFile(join(dir, 'cert.pem'));
    const key = await readFile(join(dir, 'key.pem'));
    await withServer(
      echo,
      async (url) => {
        assert.match(url, /^https:/);
        const client = new DmHttpClient({ ca: cert });
        try {
          const reply = await client.post(url, { body: new Uint8Array([7]), encoding: 'xml' });
          assert.deepEqual([...reply.body], [7]);
        } finally {
          client.close();
        }
      },
      { tls: { cert, key } },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
