// Inventory filters and paging: the pure filter on a hand-made inventory, then the route over real
// HTTP with a real gateway and devices (validation answers 400 before the gateway is asked).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { filterInventory, inventoryQuery } from '../../src/api/inventory-filter.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';

const inventory = {
  'IMEI:1': { DeviceID: 'IMEI:1', Mod: 'Meter', Protocol: 'OMA-DM/1.2', Mode: '2', Status: '1' },
  'IMEI:2': { DeviceID: 'IMEI:2', Mod: 'Sensor', Protocol: 'OMA-DM/1.2', Mode: '1', Status: '0' },
  'lw-1': { DeviceID: 'lw-1', Mod: 'LwM2M thermostat', Protocol: 'LwM2M/1.1', Mode: '3', Status: '1' },
  'lw-2': { DeviceID: 'lw-2', Mod: 'LwM2M thermostat', Protocol: 'LwM2M/1.1', Mode: '3', Status: '0' },
};
const ids = (url: string) => Object.keys(filterInventory(inventory, inventoryQuery(new URL(url, 'http://x'))!).devices);

test('inventory filters: status, mode by name or number, protocol prefix, free text, combined', () => {
  assert.deepEqual(ids('/?status=detached'), ['IMEI:2', 'lw-2']);
  assert.deepEqual(ids('/?mode=adaptation'), ['lw-1', 'lw-2']);
  assert.deepEqual(ids('/?mode=1'), ['IMEI:2']);
  assert.deepEqual(ids('/?protocol=lwm2m'), ['lw-1', 'lw-2']);
  assert.deepEqual(ids('/?q=sensor'), ['IMEI:2']);
  assert.deepEqual(ids('/?protocol=OMA-DM&status=attached'), ['IMEI:1']);
});

test('inventory paging: a page of the matches, with how many matched in all', () => {
  const r = filterInventory(inventory, inventoryQuery(new URL('/?limit=2&offset=1', 'http://x'))!);
  assert.deepEqual(Object.keys(r.devices), ['IMEI:2', 'lw-1']);
  assert.deepEqual([r.matched, r.limit, r.offset], [4, 2, 1]);
  assert.equal(inventoryQuery(new URL('/', 'http://x')), undefined, 'no filter: the inventory is answered whole');
});

test('inventory pages are in natural order: numbers inside ids compare as numbers', () => {
  const many = Object.fromEntries(
    ['IMEI:35000110', 'IMEI:3500099', 'IMEI:3500010', 'IMEI:350009', 'lw-10', 'lw-9'].map((id) => [id, { DeviceID: id, Status: '1' }]),
  );
  const page = (offset: number) =>
    Object.keys(filterInventory(many, inventoryQuery(new URL(`/?limit=3&offset=${offset}`, 'http://x'))!).devices);
  assert.deepEqual([...page(0), ...page(3)], ['IMEI:350009', 'IMEI:3500010', 'IMEI:3500099', 'IMEI:35000110', 'lw-9', 'lw-10']);
});

test("GET /api/gateways/{id}/devices filters a real gateway's inventory and refuses bad filters with 400", async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const devices = await startDevices(gw.gateway.lanUrl, 4);
  try {
    await gw.gateway.checkIn();
    const api = srv.url.replace(/\/dm$/, '/api');
    const get = async (query: string) => {
      const res = await fetch(`${api}/gateways/${encodeURIComponent(GW_ID)}/devices${query}`);
      return { status: res.status, json: (await res.json()) as any };
    };
    const sensors = await get('?q=sensor&status=attached');
    assert.equal(sensors.status, 200, JSON.stringify(sensors.json));
    assert.deepEqual(Object.keys(sensors.json.devices), ['IMEI:000000000000001', 'IMEI:000000000000003']);
    assert.equal(sensors.json.summary.Total, '4', 'the summary still counts every device');
    const page = await get('?protocol=oma-dm&mode=proxy&limit=3&offset=3');
    assert.deepEqual([Object.keys(page.json.devices).length, page.json.matched], [1, 4]);
    for (const [query, message] of [
      ['?status=gone', /status must be attached or detached/],
      ['?mode=fast', /mode must be/],
      ['?limit=0', /limit must be/],
      ['?offset=-1', /offset must be/],
    ] as const) {
      const bad = await get(query);
      assert.equal(bad.status, 400, query);
      assert.match(bad.json.error, message);
    }
  } finally {
    for (const d of devices) await d.stop();
    await gw.close();
    await srv.close();
  }
});
