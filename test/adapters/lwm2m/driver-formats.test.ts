// The LwM2M driver against simulated devices that speak different formats: SenML JSON only (1.1),
// TLV only (1.0), SenML CBOR only, and one that announces nothing. Write, Replace of an instance,
// partial update and Create each reach the device in a format it speaks; types survive the trip.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';

import type { DriverCommand } from '../../../src/adapters/driver.ts';
import { Lwm2mDriver } from '../../../src/adapters/lwm2m/driver.ts';
import { Lwm2mServer } from '../../../src/adapters/lwm2m/server.ts';
import { Lwm2mDevice, type Lwm2mDeviceOptions } from '../../../src/sim/lwm2m-device.ts';

const ctx = { key: 't', timeoutMs: 5000, retries: 0, cancelled: () => false };

async function rig(t: { after(fn: () => unknown): void }, devices: Omit<Lwm2mDeviceOptions, 'server'>[]) {
  const server = new Lwm2mServer({ port: 0, timeoutMs: 5000 });
  const { host, port } = await server.listen();
  const sims: Lwm2mDevice[] = [];
  for (const o of devices) {
    const d = new Lwm2mDevice({ ...o, server: `coap://${host}:${port}` });
    const registered = once(server, 'registered');
    await d.start();
    await registered;
    sims.push(d);
  }
  t.after(async () => {
    for (const d of sims) await d.stop();
    await server.close();
  });
  return { driver: new Lwm2mDriver(server), server, sims };
}

const cmds = (...c: DriverCommand[]): DriverCommand[] => c;

for (const [label, options] of [
  ['SenML JSON only (1.1, ct=110)', { formats: 'json', version: '1.1' }],
  ['TLV only (1.0, no ct)', { formats: 'tlv', version: '1.0' }],
  ['SenML CBOR only (1.2, ct=112)', { formats: 'cbor', version: '1.2' }],
] as const) {
  test(`a device that speaks ${label}: Write, Replace of an instance, partial update, Create and Read, with no refusal`, async (t) => {
    const {
      driver,
      sims: [d],
    } = await rig(t, [{ endpoint: 'd', ...options }]);
    const results = await driver.execute(
      'd',
      cmds(
        { kind: 'Replace', target: './3303/0/5750', data: 'freezer' },
        { kind: 'Add', target: './1/0/6', data: 'true' },
        { kind: 'Replace', target: './1/0', data: '[{"bn":"/1/0/","n":"1","v":600},{"n":"6","vb":false},{"n":"7","vs":"UQ"}]' },
        { kind: 'Add', target: './3303/1', data: '[{"n":"/3303/1/5700","v":4},{"n":"/3303/1/5701","vs":"Cel"}]' },
        { kind: 'Add', target: './3303', data: '[{"n":"/3303/7/5700","v":-30.25}]' },
        { kind: 'Get', target: './3303/0' },
        { kind: 'Get', target: './3303/0/5700' },
      ),
      ctx,
    );
    assert.deepEqual(
      results.slice(0, 5).map((r) => r.status),
      [200, 200, 200, 200, 200],
      JSON.stringify(results),
    );
    assert.equal(d!.refusals, 0, 'the first format chosen was one it speaks');
    assert.equal(d!.objects.get(3303)!.get(0)!.get(5750), 'freezer');
    const server1 = d!.objects.get(1)!.get(0)!;
    assert.deepEqual([server1.get(1), server1.get(6), server1.get(7)], [600, false, 'UQ']);
    assert.deepEqual([d!.objects.get(3303)!.get(1)?.get(5700), d!.objects.get(3303)!.get(1)?.get(5701)], [4, 'Cel']);
    assert.equal(d!.objects.get(3303)!.get(7)?.get(5700), -30.25);
    assert.equal(results[5]!.status, 200);
    const records = JSON.parse(String(results[5]!.data)) as { n: string; v?: number; vs?: string }[];
    assert.deepEqual(
      records.find((r) => r.n === '/3303/0/5700'),
      { bn: '', n: '/3303/0/5700', v: 21.5 },
    );
    assert.deepEqual(
      records.find((r) => r.n === '/3303/0/5750'),
      { n: '/3303/0/5750', vs: 'freezer' },
    );
    assert.deepEqual(results[6], { status: 200, data: '21.5', format: 'float' });
  });
}

test('a device that refuses the first format is asked once more in the next, and the refusal is remembered', async (t) => {
  // 1.1 without ct: the gateway starts with TLV; this one speaks only SenML CBOR
  const {
    driver,
    server,
    sims: [d],
  } = await rig(t, [{ endpoint: 'quiet-cbor', formats: 'cbor', version: '1.1', announce: false }]);
  const first = await driver.execute('quiet-cbor', cmds({ kind: 'Add', target: './3303/0/5750', data: 'cellar' }), ctx);
  assert.deepEqual(
    first.map((r) => r.status),
    [200],
  );
  assert.equal(d!.refusals, 1, 'TLV refused with 4.15, then SenML CBOR taken');
  assert.deepEqual([...server.registration('quiet-cbor')!.formats.refused], [11542]);
  const again = await driver.execute(
    'quiet-cbor',
    cmds({ kind: 'Add', target: './3303/0/5750', data: 'attic' }, { kind: 'Get', target: './3303/0' }),
    ctx,
  );
  assert.deepEqual(
    again.map((r) => r.status),
    [200, 200],
  );
  assert.equal(d!.refusals, 1, 'no second refusal: TLV is not tried again');
  assert.equal(d!.objects.get(3303)!.get(0)!.get(5750), 'attic');
  // a device that speaks none of the two formats tried gives the device's status, not a hang
  const {
    driver: d2,
    sims: [json],
  } = await rig(t, [{ endpoint: 'quiet-json', formats: 'json', version: '1.1', announce: false }]);
  const refused = await d2.execute('quiet-json', cmds({ kind: 'Get', target: './3303/0' }), ctx);
  assert.deepEqual(refused, [{ status: 406 }]);
  assert.equal(json!.refusals, 2);
});

test('Replace of an instance without SenML in Data is 400 with the reason, and nothing reaches the device', async (t) => {
  const {
    driver,
    sims: [d],
  } = await rig(t, [{ endpoint: 'd' }]);
  const before = JSON.stringify([...d!.objects.get(3303)!.get(0)!]);
  const r = await driver.execute(
    'd',
    cmds(
      { kind: 'Replace', target: './3303/0', data: 'warm' },
      { kind: 'Replace', target: './3303/0', data: '[{"n":"/3/0/0","vs":"x"}]' },
      { kind: 'Replace', target: './3303/0', data: '[{"n":"/3303/0/5700","v":' },
    ),
    ctx,
  );
  assert.deepEqual(
    r.map((x) => x.status),
    [400, 400, 400],
  );
  assert.match(String(r[0]!.data), /needs its resources as SenML JSON in Data/);
  assert.match(String(r[1]!.data), /outside \/3303\/0/);
  assert.match(String(r[2]!.data), /not JSON/);
  assert.equal(JSON.stringify([...d!.objects.get(3303)!.get(0)!]), before);
});

test('single values come back with the DM Format of their type: int, float, bool, chr', async (t) => {
  const {
    driver,
    sims: [d],
  } = await rig(t, [{ endpoint: 'd', formats: 'json' }]);
  d!.objects.get(1)!.get(0)!.set(6, true);
  const r = await driver.execute(
    'd',
    cmds(
      { kind: 'Get', target: './3/0/9' },
      { kind: 'Get', target: './3303/0/5700' },
      { kind: 'Get', target: './1/0/6' },
      { kind: 'Get', target: './3/0/2' },
    ),
    ctx,
  );
  assert.deepEqual(r, [
    { status: 200, data: '87', format: 'int' },
    { status: 200, data: '21.5', format: 'float' },
    { status: 200, data: 'true', format: 'bool' },
    { status: 200, data: 'd', format: 'chr' },
  ]);
});
