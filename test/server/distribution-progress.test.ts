// The server's reading of a gateway's Progress/Downloads into a distribution's device rows.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { downloadingRows, parseDownloads, settledBytes } from '../../src/server/distribution-progress.ts';
import type { DistributionDeviceRow } from '../../src/store/server.ts';

const row = (
  deviceId: string,
  state: DistributionDeviceRow['state'],
  more: Partial<DistributionDeviceRow> = {},
): DistributionDeviceRow => ({
  distributionId: 'd',
  deviceId,
  state,
  updatedAt: 1,
  ...more,
});

test('Progress/Downloads lines give each device its bytes and size; lines that do not parse are skipped', () => {
  const text = ['IMEI%3A1 3100000 8000000', 'dev%20two 0 8000000', 'broken line', 'x 9 8', 'bad%E0 1 2', 'y 5 0'].join('\n');
  assert.deepEqual(
    [...parseDownloads(text)],
    [
      ['IMEI:1', { bytes: 3_100_000, size: 8_000_000 }],
      ['dev two', { bytes: 0, size: 8_000_000 }],
    ],
  );
  assert.equal(parseDownloads('').size, 0);
});

test('a sent device whose count moved becomes downloading; an unchanged one is not written again; an ended one is never moved back', () => {
  const rows = new Map(
    [
      row('a', 'sent'),
      row('b', 'downloading', { bytes: 10, size: 100 }),
      row('c', 'downloading', { bytes: 10, size: 100 }),
      row('d', 'succeeded', { bytes: 100, size: 100 }),
      row('e', 'failed'),
      row('f', 'sent'),
      row('g', 'queued'),
    ].map((r) => [r.deviceId, r]),
  );
  const fetched = parseDownloads(['a 5 100', 'b 10 100', 'c 60 100', 'd 50 100', 'e 1 100', 'f 0 100', 'g 1 100', 'h 1 100'].join('\n'));
  assert.deepEqual(
    downloadingRows(rows, fetched, 7).map((r) => [r.deviceId, r.state, r.bytes, r.size, r.updatedAt]),
    [
      ['a', 'downloading', 5, 100, 7],
      ['c', 'downloading', 60, 100, 7],
    ],
  );
});

test('a device that succeeded has all the bytes, whatever was last read while it ran', () => {
  assert.equal(settledBytes(row('a', 'succeeded', { bytes: 10, size: 100 })).bytes, 100);
  assert.equal(settledBytes(row('a', 'failed', { bytes: 10, size: 100 })).bytes, 10);
  assert.equal(settledBytes(row('a', 'succeeded')).bytes, undefined);
});
