// The batch LwM2M notifications and Sends wait in for the next north session: one item per device
// with its records in arrival order, alerts of bounded size, a full batch drops, counts and logs once.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ALERT_BYTES, AlertBatch } from '../../src/gateway/alert-batch.ts';

const NOTIFY = 'org.gwmo.lwm2m.notify';
const dev = (id: string): string => `./GwMO/DevInventory/Devices/${id}`;
const senml = (v: number): string => JSON.stringify([{ bn: '', n: '/3303/0/5700', v }]);

test('N notifications of one device become one item with N records; devices share one alert; take empties it', () => {
  const b = new AlertBatch();
  for (let v = 1; v <= 5; v++) assert.equal(b.add({ type: NOTIFY, source: dev('lwA'), format: 'chr', data: senml(v) }), true);
  b.add({ type: NOTIFY, source: dev('lwB'), format: 'chr', data: senml(9) });
  b.add({ type: 'org.gwmo.lwm2m.send', source: dev('lwB'), format: 'chr', data: senml(7) });
  assert.deepEqual(b.counters, { queued: 7, waiting: 7, dropped: 0, alerts: 0 });
  const alerts = b.take();
  assert.equal(alerts.length, 2, 'one alert per type');
  const notify = alerts[0]!;
  assert.equal(notify.code, 1226);
  assert.deepEqual(
    notify.items.map((i) => [i.source, i.type, i.format]),
    [
      [dev('lwA'), NOTIFY, 'chr'],
      [dev('lwB'), NOTIFY, 'chr'],
    ],
  );
  const records = JSON.parse(String(notify.items[0]!.data)) as { n: string; v: number }[];
  assert.deepEqual(
    records.map((r) => [r.n, r.v]),
    [1, 2, 3, 4, 5].map((v) => ['/3303/0/5700', v]),
  );
  assert.deepEqual(JSON.parse(String(alerts[1]!.items[0]!.data)), [{ bn: '', n: '/3303/0/5700', v: 7 }]);
  assert.deepEqual(b.counters, { queued: 7, waiting: 0, dropped: 0, alerts: 2 });
  assert.deepEqual(b.take(), []);
});

test('alerts and items stay under ALERT_BYTES: many devices make several alerts, one device that waited long several items', () => {
  const b = new AlertBatch();
  for (let i = 0; i < 400; i++) b.add({ type: NOTIFY, source: dev(`lw${i}`), format: 'chr', data: senml(i) });
  for (let v = 0; v < 400; v++) b.add({ type: NOTIFY, source: dev('chatty'), format: 'chr', data: senml(v) });
  const alerts = b.take();
  assert.ok(alerts.length > 1);
  let records = 0;
  for (const a of alerts) {
    const bytes = a.items.reduce((n, i) => n + String(i.source).length + String(i.data).length, 0);
    assert.ok(bytes <= ALERT_BYTES || a.items.length === 1, `an alert of ${bytes} bytes`);
    for (const i of a.items) records += (JSON.parse(String(i.data)) as unknown[]).length;
  }
  assert.equal(records, 800, 'every record goes north');
  const chatty = alerts.flatMap((a) => a.items).filter((i) => i.source === dev('chatty'));
  assert.ok(chatty.length > 1);
  assert.deepEqual(
    chatty.flatMap((i) => (JSON.parse(String(i.data)) as { v: number }[]).map((r) => r.v)),
    Array.from({ length: 400 }, (_, v) => v),
    'in arrival order',
  );
});

test('a full batch drops what comes, counts every drop and logs once a minute', () => {
  const logged: Record<string, unknown>[] = [];
  let now = 0;
  const b = new AlertBatch({ maxRecords: 3, now: () => now, log: (event, fields) => logged.push({ event, ...fields }) });
  const add = (v: number): boolean => b.add({ type: NOTIFY, source: dev('lwA'), format: 'chr', data: senml(v) });
  assert.deepEqual([1, 2, 3, 4, 5].map(add), [true, true, true, false, false]);
  now = 59_999;
  add(6);
  assert.deepEqual(b.counters, { queued: 3, waiting: 3, dropped: 3, alerts: 0 });
  assert.deepEqual(logged, [{ event: 'alert.batch.dropped', type: NOTIFY, source: dev('lwA'), dropped: 1, waiting: 3 }]);
  now = 60_000;
  add(7);
  assert.equal(logged.length, 2);
  assert.equal(b.take()[0]!.items.length, 1);
  assert.equal(add(8), true, 'room again once a session took them');
});
