// The gateway is the DM server of its proxy-mode devices: a fanout whose Add reached the device but
// whose Status was lost must not send it again with the job's retries. The device's transport drops
// its message carrying that Status (the device ran the command, the gateway never hears of it).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DmDevice } from '../../src/client/device.ts';
import { DmHttpClient, type DmHttpMessage } from '../../src/transport/index.ts';
import { GW_ID, lanDevice, startGateway, startServer } from '../support/gw-pair.ts';

/** Loses the device's first message that answers a `kind` command: sent by the device, never received. */
class LosingHttp extends DmHttpClient {
  /** armed by the test once the device's first sessions (enrolment, its own server secret) are over */
  armed = false;
  private readonly kind: string;
  constructor(kind: string) {
    super({ retries: 0, timeoutMs: 10_000 });
    this.kind = kind;
  }
  override async post(url: string, message: DmHttpMessage): Promise<DmHttpMessage> {
    if (this.armed && Buffer.from(message.body).toString('utf8').includes(`<Cmd>${this.kind}</Cmd>`)) {
      this.armed = false;
      throw new Error('connection reset (the test lost this message)');
    }
    return super.post(url, message);
  }
}

async function rig(kind: string, deviceTimeoutS = 2) {
  const srv = await startServer();
  // one retry, and a short wait per attempt: without the rule the Add would go again after 2 s
  const gw = await startGateway(srv.url, { config: { 'Fanout/DeviceTimeout': String(deviceTimeoutS), 'Fanout/Retries': '1' } });
  await gw.gateway.checkIn();
  const id = 'IMEI:350000000000077';
  const http = new LosingHttp(kind);
  const device = new DmDevice(lanDevice(gw.gateway.lanUrl, id), undefined, () => {}, http);
  await device.start();
  assert.equal((await device.session()).end, 'done');
  // the gateway gives the device its own server secret in the sessions after enrolment (a Replace)
  for (let i = 0; i < 5 && (await gw.south.getDevice(id))?.serverPasswordNext !== undefined; i++)
    assert.equal((await device.session()).end, 'done');
  assert.equal((await gw.south.getDevice(id))?.serverPasswordNext, undefined, 'the device holds its own secret');
  http.armed = true;
  device.tree.define('./Vendor/Level', { format: 'int', value: '1' });
  const ran: [string, string, number][] = [];
  for (const k of ['add', 'replace'] as const) {
    const original = device.tree[k].bind(device.tree);
    device.tree[k] = async (who, uri, write) => {
      const status = await original(who, uri, write);
      ran.push([k, uri, status]);
      return status;
    };
  }
  return {
    srv,
    gw,
    id,
    device,
    http,
    ran,
    async close() {
      await device.stop();
      http.close();
      await gw.close();
      await srv.close();
    },
  };
}

test('a fanout Add whose Status was lost ran once, is in doubt on the gateway, and the fanout counts it apart', async () => {
  const r = await rig('Add');
  try {
    const done = r.srv.alertOf('resultaggregation');
    await r.srv.server.gateways.startFanout(
      GW_ID,
      { name: 'add-meter', devices: [r.id], commands: [{ kind: 'Add', path: './Vendor/Meter', value: 'm1', format: 'chr' }] },
      10_000,
    );
    const aggregate = String((await done).items[0]!.data);
    assert.equal(
      aggregate,
      `<Aggregate total="1"><Status code="408" count="1"><Device>${r.id}</Device></Status><InDoubt count="1"><Device>${r.id}</Device></InDoubt></Aggregate>`,
    );
    assert.equal(r.http.armed, false, 'the Status was lost');
    assert.deepEqual(r.ran, [['add', './Vendor/Meter', 200]], 'the Add ran once: the retry did not send it again');
    const ops = await r.gw.south.listOperations(r.id, { state: 'indoubt' });
    assert.equal(ops.length, 1);
    assert.match(ops[0]!.note ?? '', /whether the Add ran is unknown, so it is not sent again/);
    const job = await r.srv.server.gateways.fanout(GW_ID, 'add-meter', 10_000);
    const value = job.value as Record<string, any>;
    assert.deepEqual({ ...value['Progress'] }, { Total: '1', Done: '1', Succeeded: '0', Failed: '0', InDoubt: '1' });
    assert.equal(value['Results']['1']['InDoubt'], 'true');
  } finally {
    await r.close();
  }
});

test('a fanout Replace whose Status was lost is sent again with the retry and done', async () => {
  // the lost message carried the device's next nonce for the gateway: the retry's Package#0 reaches
  // it through the resync one 5 s later (src/server/notify-watch.ts), so the attempt waits longer
  const r = await rig('Replace', 8);
  try {
    const done = r.srv.alertOf('resultaggregation');
    await r.srv.server.gateways.startFanout(
      GW_ID,
      { name: 'set-level', devices: [r.id], commands: [{ kind: 'Replace', path: './Vendor/Level', value: '7', format: 'int' }] },
      10_000,
    );
    assert.equal(String((await done).items[0]!.data), '<Aggregate total="1"><Status code="200" count="1"/></Aggregate>');
    assert.deepEqual(r.ran, [
      ['replace', './Vendor/Level', 200],
      ['replace', './Vendor/Level', 200],
    ]);
    const job = await r.srv.server.gateways.fanout(GW_ID, 'set-level', 10_000);
    assert.deepEqual(
      { ...(job.value as Record<string, any>)['Progress'] },
      { Total: '1', Done: '1', Succeeded: '1', Failed: '0', InDoubt: '0' },
    );
  } finally {
    await r.close();
  }
});
