// The forward between instances (src/server/session-forward.ts): instance B posts a message of A's
// session to A's DM URL, signed; A takes the device's address from a forward only when the signature
// covers this body and query and is fresh. Actors: two forwarders sharing a directory and a key (what
// the shared database gives them), A's endpoint a real HTTP listener that hands what it receives to
// A's forwarder.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';

import { SessionForwarder } from '../../src/server/session-forward.ts';
import type { SessionOwners } from '../../src/store/server.ts';
import { DmHttpServer, type DmHttpRequest } from '../../src/transport/index.ts';

const KEY = new Uint8Array(32).fill(7);

test('a forward is taken with its signature, and refused when body, query or time differ; a message of an unknown tag stays here', async () => {
  const received: DmHttpRequest[] = [];
  const counted: string[] = [];
  let a: SessionForwarder | undefined;
  const http = new DmHttpServer({
    maxMsgSize: 64 * 1024,
    handler: async (req) => {
      received.push(req);
      const routed = await a!.route(req);
      if ('reply' in routed) return routed.reply;
      return {
        body: new TextEncoder().encode(`<ok from="${routed.req.remoteAddress}"/>`),
        encoding: 'xml',
        hmac: 'algorithm=MD5, username="x", mac=y',
      };
    },
  });
  const { url } = await http.listen();
  let closed = false;
  const directory = new Map([['aaaaaaaa', url]]);
  const owners = (tag: string): SessionOwners => ({
    tag,
    advertise: async () => {},
    addresses: async () => directory,
    forwardKey: async () => KEY,
  });
  a = new SessionForwarder(owners('aaaaaaaa'), (o) => counted.push(`a:${o}`));
  const b = new SessionForwarder(owners('bbbbbbbb'), (o) => counted.push(`b:${o}`));
  try {
    const message: DmHttpRequest = {
      body: new TextEncoder().encode('<SyncML>one</SyncML>'),
      encoding: 'xml',
      url: '/dm?s=aaaaaaaa.0123456789abcdef',
      remoteAddress: '192.0.2.7',
      hmac: 'algorithm=MD5, username="dev", mac=abc',
    };
    const routed = await b.route(message);
    assert.ok('reply' in routed);
    assert.deepEqual(
      [routed.forwardedTo, 'body' in routed.reply && new TextDecoder().decode(routed.reply.body)],
      ['aaaaaaaa', '<ok from="192.0.2.7"/>'],
      "A handled it with the device's address",
    );
    assert.equal('hmac' in routed.reply && routed.reply.hmac, 'algorithm=MD5, username="x", mac=y', "the owner's MAC header comes back");
    const forwarded = received[0]!;
    assert.equal(forwarded.hmac, message.hmac, "the device's MAC header goes along");
    assert.equal(forwarded.url, message.url);

    // the same signature over another body, another query, or an old time: 403, not handled
    const refused = async (req: DmHttpRequest): Promise<void> => {
      const r = await a!.route(req);
      assert.ok('reply' in r && 'httpStatus' in r.reply && r.reply.httpStatus === 403, JSON.stringify(r));
    };
    await refused({ ...forwarded, body: new TextEncoder().encode('<SyncML>two</SyncML>') });
    await refused({ ...forwarded, url: '/dm?s=aaaaaaaa.fedcba9876543210' });
    const old = Date.now() - 60_000;
    const mac = createHmac('sha256', KEY)
      .update(`${old}\n192.0.2.7\n?s=aaaaaaaa.0123456789abcdef\n`)
      .update(forwarded.body)
      .digest('base64url');
    await refused({ ...forwarded, forward: `${old} 192.0.2.7 ${mac}` });
    await refused({ ...forwarded, forward: 'nonsense' });

    // a tag no live instance has, and this instance's own: handled here, as they came
    const unknown = { ...message, url: '/dm?s=cccccccc.0123456789abcdef' };
    assert.deepEqual(await b.route(unknown), { req: unknown });
    const own = { ...message, url: '/dm?s=bbbbbbbb.0123456789abcdef' };
    assert.deepEqual(await b.route(own), { req: own });
    assert.deepEqual(counted, ['b:relayed', 'a:refused', 'a:refused', 'a:refused', 'a:refused', 'b:owner-gone']);

    // the owner gone (its listener closed): handled here, where the engine answers "no DM session"
    await http.close();
    closed = true;
    assert.deepEqual(await b.route(message), { req: message });
    assert.equal(counted.at(-1), 'b:owner-gone');
  } finally {
    if (!closed) await http.close();
  }
});
