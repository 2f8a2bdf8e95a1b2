// An independent CoAP implementation (Debian's libcoap3-bin, coap-client-notls) registers with the
// gateway's LwM2M server, its Register payload in 32-byte Block1 blocks (a new token per block, as
// libcoap does), then de-registers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { type Registration, Lwm2mServer } from '../../../src/adapters/lwm2m/server.ts';

const CLIENT = '/usr/bin/coap-client-notls';
const run = promisify(execFile);

test('coap-client-notls registers block-wise (Block1, 32-byte blocks) and de-registers', {
  skip: existsSync(CLIENT) ? false : `${CLIENT} is missing: apt-get install -y libcoap3-bin`,
}, async (t) => {
  const server = new Lwm2mServer({ port: 0 });
  const { host, port } = await server.listen();
  t.after(() => server.close());
  const links = '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>,</3303/0>,</3303/1>,</3303/2>,</5/0>';
  const registered = once(server, 'registered', { signal: AbortSignal.timeout(10_000) }) as Promise<[Registration]>;
  const reg = await run(CLIENT, [
    '-m',
    'post',
    '-b',
    '32',
    '-t',
    '40',
    '-B',
    '10',
    '-e',
    links,
    `coap://${host}:${port}/rd?ep=libcoap-1&lt=60&lwm2m=1.1&b=U`,
  ]);
  const [r] = await registered;
  assert.equal(r.endpoint, 'libcoap-1');
  assert.equal(r.blockSize, 32, 'the server took the block size the client chose');
  assert.deepEqual(r.links.map((l) => [l.path.objectId, l.path.instanceId]).slice(1), [
    [1, 0],
    [3, 0],
    [3303, 0],
    [3303, 1],
    [3303, 2],
    [5, 0],
  ]);
  assert.equal(reg.stderr.includes('4.'), false, reg.stderr);
  const gone = once(server, 'deregistered', { signal: AbortSignal.timeout(10_000) });
  await run(CLIENT, ['-m', 'delete', '-B', '10', `coap://${host}:${port}/rd/${r.id}`]);
  await gone;
  assert.equal(server.registration('libcoap-1'), undefined);
});
