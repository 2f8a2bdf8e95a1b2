// LwM2M bootstrap on the gateway: a factory-fresh simulated device (a bootstrap account only) is
// given its Security and Server objects by the gateway's bootstrap server from what the DM server
// provisioned, registers where they point, and is read from the DM server; bootstrap to another
// LwM2M server the DM server named; refusals. The transport is a parameter: over coaps:// the device
// bootstraps with its bootstrap PSK and registers with the PSK it was given (the test).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';

import { Lwm2mServer } from '../../src/adapters/lwm2m/server.ts';
import { Lwm2mDevice } from '../../src/sim/lwm2m-device.ts';
import { GW_ID, startGateway, startServer } from '../support/gw-pair.ts';

type Transport = 'coap' | 'coaps';
const TRANSPORTS: readonly Transport[] = ['coap', 'coaps'];

const KEY = '2b7e151628aed2a6abf7158809cf4f3c';
const BS_KEY = '6bc1bee22e409f96e93d7e117393172a';

/** what the operator PUTs, and the bootstrap account the factory gave the device, per transport */
function variant(
  t: Transport,
  endpoint: string,
  gateway: { lwm2mBootstrapAddress: string | undefined; lwm2mBootstrapSecureAddress: string | undefined },
) {
  return t === 'coap'
    ? { credentials: { serverUri: '' }, bootstrap: { uri: `coap://${gateway.lwm2mBootstrapAddress}` } }
    : {
        credentials: { identity: endpoint, key: KEY, bootstrapIdentity: `bs-${endpoint}`, bootstrapKey: BS_KEY },
        bootstrap: { uri: `coaps://${gateway.lwm2mBootstrapSecureAddress}`, identity: `bs-${endpoint}`, key: BS_KEY },
      };
}

async function putCredentials(api: string, endpoint: string, body: Record<string, string>): Promise<void> {
  const r = await fetch(`${api}/devices/${encodeURIComponent(endpoint)}/lwm2m-credentials`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ gateway: GW_ID, ...body }),
  });
  assert.equal(r.status, 200, await r.text());
}

for (const transport of TRANSPORTS) {
  test(`${transport}: a device bootstrapped from nothing registers with the gateway and is read from the DM server`, async () => {
    const lines: string[] = [];
    const srv = await startServer();
    const gw = await startGateway(srv.url, {
      lwm2m: true,
      lwm2mBootstrap: true,
      ...(transport === 'coaps' ? { lwm2mDtls: true, lwm2mBootstrapDtls: true } : {}),
      log: (event, fields) => void lines.push(JSON.stringify({ event, ...fields })),
    });
    const v = variant(transport, 'fresh-1', gw.gateway);
    const dev = new Lwm2mDevice({ endpoint: 'fresh-1', bootstrap: v.bootstrap, formats: 'json' });
    try {
      await gw.gateway.checkIn();
      const api = srv.url.replace(/\/dm$/, '/api');
      await putCredentials(api, 'fresh-1', v.credentials);
      assert.equal(dev.account(), undefined, 'factory-fresh: no server account');
      const registered = once(gw.gateway.lwm2m!, 'registered', { signal: AbortSignal.timeout(10_000) });
      await dev.start();
      await registered;
      // what it was given is what it uses: objects 0 and 1 in its own tree
      const account = dev.account()!;
      assert.equal(account.uri, transport === 'coap' ? `coap://${gw.gateway.lwm2mAddress}` : gw.gateway.lwm2mSecureUri);
      assert.equal(account.securityMode, transport === 'coap' ? 3 : 0);
      // over coaps:// it registered through a DTLS association with the PSK identity it was given
      assert.equal(gw.gateway.lwm2m!.registration('fresh-1')?.identity, transport === 'coap' ? undefined : 'fresh-1');
      assert.deepEqual([...dev.objects.get(0)!.values()].map((i) => [i.get(1), i.get(10)]).sort(), [
        [false, 1],
        [true, undefined],
      ]);
      assert.equal(dev.objects.get(1)!.size, 1, 'one Server instance, for the account it was given');
      assert.ok(lines.some((l) => l.includes('"event":"lwm2m.bootstrap.done"') && l.includes('fresh-1')));

      // the DM server reads it through the gateway
      const done = srv.alertOf('resultaggregation');
      const f = await fetch(`${api}/gateways/${encodeURIComponent(GW_ID)}/fanouts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'read-fresh', devices: ['fresh-1'], commands: [{ kind: 'Get', path: './DevInfo/Mod' }] }),
      });
      assert.ok(f.status === 200 || f.status === 202, await f.text());
      assert.match(String((await done).items[0]!.data), /<Status code="200" count="1"\/>/);
      assert.deepEqual(gw.gstore.listResults('read-fresh')[0]!.commands[0], { status: 200, data: 'lwm2m-sim', format: 'chr' });
    } finally {
      await dev.stop();
      await gw.close();
      await srv.close();
    }
  });
}

test('bootstrap to another LwM2M server the DM server named (HLF-006 counterpart)', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true, lwm2mBootstrap: true });
  const other = new Lwm2mServer({ port: 0 });
  const { host, port } = await other.listen();
  const dev = new Lwm2mDevice({
    endpoint: 'elsewhere-1',
    bootstrap: { uri: `coap://${gw.gateway.lwm2mBootstrapAddress}` },
    version: '1.0',
  });
  try {
    await gw.gateway.checkIn();
    await putCredentials(srv.url.replace(/\/dm$/, '/api'), 'elsewhere-1', { serverUri: `coap://${host}:${port}` });
    const registered = once(other, 'registered', { signal: AbortSignal.timeout(10_000) });
    await dev.start();
    await registered;
    assert.equal(other.registration('elsewhere-1')?.version, '1.0', 'a 1.0 client, bootstrapped in TLV');
    assert.equal(gw.gateway.lwm2m!.registration('elsewhere-1'), undefined);
    assert.equal(dev.account()!.uri, `coap://${host}:${port}`);
  } finally {
    await dev.stop();
    await other.close();
    await gw.close();
    await srv.close();
  }
});

test('refused: an endpoint the DM server did not provision (4.00), one with keys over plain CoAP (4.03, logged, no key in the log)', async () => {
  const lines: string[] = [];
  const srv = await startServer();
  const gw = await startGateway(srv.url, {
    lwm2m: true,
    lwm2mBootstrap: true,
    log: (event, fields) => void lines.push(JSON.stringify({ event, ...fields })),
  });
  const bs = `coap://${gw.gateway.lwm2mBootstrapAddress}`;
  const stranger = new Lwm2mDevice({ endpoint: 'stranger', bootstrap: { uri: bs } });
  const keyed = new Lwm2mDevice({ endpoint: 'keyed', bootstrap: { uri: bs } });
  try {
    await gw.gateway.checkIn();
    await putCredentials(srv.url.replace(/\/dm$/, '/api'), 'keyed', {
      identity: 'keyed',
      key: KEY,
      bootstrapIdentity: 'bs-keyed',
      bootstrapKey: BS_KEY,
    });
    await assert.rejects(stranger.start(), /bootstrap refused by .*: 4\.00 no bootstrap configuration/);
    await assert.rejects(keyed.start(), /bootstrap refused by .*: 4\.03/);
    assert.equal(keyed.account(), undefined, 'nothing was written');
    const refused = lines.find((l) => l.includes('"event":"lwm2m.bootstrap.refused"'));
    assert.match(refused ?? '', /"endpoint":"keyed".*bootstraps over DTLS/);
    for (const secret of [KEY, BS_KEY]) assert.ok(!lines.join('\n').includes(secret), 'a key in the log');
  } finally {
    await stranger.stop();
    await keyed.stop();
    await gw.close();
    await srv.close();
  }
});
