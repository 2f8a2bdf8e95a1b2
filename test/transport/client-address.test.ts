// The device's address behind a load balancer, over real sockets: X-Forwarded-For counts only from a
// trusted peer, read from the right past trusted hops; an untrusted sender's header is ignored.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';

import { DmHttpServer, type DmHttpRequest, TrustedProxies } from '../../src/transport/index.ts';

/** the address the DM handler is given for one POST from `localAddress` with these X-Forwarded-For values */
async function seen(proxies: TrustedProxies | undefined, localAddress: string, xff?: string | string[]): Promise<string> {
  let got = '';
  const server = new DmHttpServer({
    maxMsgSize: 1000,
    ...(proxies ? { trustedProxies: proxies } : {}),
    handler: async (r: DmHttpRequest) => {
      got = r.remoteAddress;
      return { httpStatus: 401, message: 'no' };
    },
  });
  const { url } = await server.listen();
  try {
    await new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          localAddress,
          headers: { 'content-type': 'application/vnd.syncml.dm+xml', ...(xff !== undefined ? { 'x-forwarded-for': xff } : {}) },
        },
        (res) => res.resume().on('end', resolve),
      );
      req.on('error', reject);
      req.end('<SyncML/>');
    });
  } finally {
    await server.close();
  }
  return got;
}

test('a trusted proxy names the device: the nearest untrusted hop from the right', async () => {
  const lb = new TrustedProxies(['127.0.0.1', '10.0.0.0/8']);
  assert.equal(await seen(lb, '127.0.0.1', '192.0.2.7'), '192.0.2.7');
  // what the device itself put first is not believed: the balancer appended the address it saw
  assert.equal(await seen(lb, '127.0.0.1', '203.0.113.9, 192.0.2.7'), '192.0.2.7');
  // through a second trusted hop
  assert.equal(await seen(lb, '127.0.0.1', ['192.0.2.7', '10.1.2.3']), '192.0.2.7');
  // no header, or garbage where an address should be: the last trusted hop is all that is known
  assert.equal(await seen(lb, '127.0.0.1'), '127.0.0.1');
  assert.equal(await seen(lb, '127.0.0.1', 'not-an-address'), '127.0.0.1');
});

test('X-Forwarded-For from a peer that is not a trusted proxy is ignored: a sender cannot choose its address', async () => {
  const lb = new TrustedProxies(['127.0.0.1/32']);
  assert.equal(await seen(lb, '127.0.0.2', '192.0.2.7'), '127.0.0.2');
  assert.equal(await seen(undefined, '127.0.0.1', '192.0.2.7'), '127.0.0.1', 'no trusted proxies: the header means nothing');
});

test('a malformed trusted proxy is refused with its name', () => {
  for (const bad of ['10.0.0.0/33', 'example.org', '10.0.0.0/', '::1/129', '1.2.3.4/8/1'])
    assert.throws(
      () => new TrustedProxies([bad]),
      new RegExp(`"${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is not an IP address or CIDR`),
    );
  assert.ok(new TrustedProxies(['fd00::/8', '::1']).trusts('fd12::1'));
});
