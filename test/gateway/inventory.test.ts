// The inventory's writes: a known device heard from again changes only its lastSeen, which is held
// and written with the others in one transaction at the next sweep (or read of the inventory).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GatewayConfig } from '../../src/gateway/config.ts';
import { Inventory } from '../../src/gateway/inventory.ts';
import { SqliteGatewayStore } from '../../src/store/sqlite/gateway.ts';

const DM = { protocol: 'OMA-DM/1.2', info: { Man: 'Acme' }, dmClient: true, localAddress: '10.0.0.7' } as const;

function setup() {
  const store = new SqliteGatewayStore(':memory:');
  store.setConfig('DetachTimeout', '10');
  const inventory = new Inventory(store, new GatewayConfig(store), () => {});
  return { store, inventory };
}

test('a first sighting is written at once and counts as an arrival; a repeat with only a new time is held until flush', () => {
  const { store, inventory } = setup();
  assert.equal(inventory.seen('D1', DM, 1_000).arrived, true);
  assert.equal(store.getDevice('D1')?.lastSeen, 1_000);
  const again = inventory.seen('D1', DM, 5_000);
  assert.equal(again.arrived, false);
  assert.equal(again.row.lastSeen, 5_000);
  assert.equal(store.getDevice('D1')?.lastSeen, 1_000, 'held, not written per session');
  inventory.flush();
  assert.equal(store.getDevice('D1')?.lastSeen, 5_000);
});

test('a sighting that changes more than the time is written at once', () => {
  const { store, inventory } = setup();
  inventory.seen('D1', DM, 1_000);
  inventory.seen('D1', { ...DM, info: { Man: 'Acme', FwV: '2.0' } }, 2_000);
  assert.deepEqual(store.getDevice('D1')?.info, { Man: 'Acme', FwV: '2.0' });
  assert.equal(store.getDevice('D1')?.lastSeen, 2_000);
});

test('the sweep writes held times first: a device heard from recently is not detached', () => {
  const { store, inventory } = setup();
  inventory.seen('D1', DM, 1_000);
  inventory.seen('D2', DM, 1_000);
  inventory.seen('D1', DM, 9_000); // held: the row still says 1,000
  const gone = inventory.sweep(12_000); // DetachTimeout 10 s: silent since before 2,000
  assert.deepEqual(
    gone.map((d) => d.deviceId),
    ['D2'],
  );
  assert.equal(store.getDevice('D1')?.attached, true);
  assert.equal(store.getDevice('D1')?.lastSeen, 9_000);
});

test('held times never move lastSeen back', () => {
  const { store, inventory } = setup();
  inventory.seen('D1', DM, 1_000);
  inventory.seen('D1', DM, 3_000);
  store.touchDevices(new Map([['D1', 7_000]]));
  inventory.flush();
  assert.equal(store.getDevice('D1')?.lastSeen, 7_000);
});
