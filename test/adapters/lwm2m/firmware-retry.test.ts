// Which object 5 failures the driver tries again, and within what time: only Update Result 4
// (connection lost during download), and only while the device's time allows a new try. The device is
// scripted so that the results come exactly; test/gateway/lwm2m-firmware-retry.test.ts has the real one.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { DriverCommand, DriverResult } from '../../../src/adapters/driver.ts';
import { runFirmware } from '../../../src/adapters/lwm2m/firmware.ts';
import { FUMO_ROOT } from '../../../src/tree/index.ts';

const commands: DriverCommand[] = [
  { kind: 'Replace', target: `${FUMO_ROOT}/DownloadAndUpdate/PkgURL`, data: 'http://127.0.0.1:1/img/x', format: 'chr' },
  { kind: 'Exec', target: `${FUMO_ROOT}/DownloadAndUpdate` },
];

/** a pulling device whose every download ends in `result` */
function device(result: number) {
  let state = 0;
  let last = 0;
  let writes = 0;
  const run = async (c: DriverCommand): Promise<DriverResult> => {
    if (c.target === './5/0/8' || c.target === './5/0/9') return { status: 404 };
    if (c.kind === 'Replace' && c.target === './5/0/1') return (writes++, (state = 0), (last = result), { status: 200 });
    if (c.target === './5/0/3') return { status: 200, data: String(state), format: 'int' };
    if (c.target === './5/0/5') return { status: 200, data: String(last), format: 'int' };
    return { status: 404 };
  };
  return { run, writes: () => writes };
}

for (const [result, status] of [
  [2, 420],
  [5, 500],
  [7, 400],
  [9, 406],
] as const)
  test(`Update Result ${result} is final: the Package URI is written once`, async () => {
    const d = device(result);
    const retried: unknown[] = [];
    const out = await runFirmware(commands, d.run, {
      deadline: Date.now() + 20_000,
      cancelled: () => false,
      fetchPackage: async () => new Uint8Array(),
      retrying: (r) => retried.push(r),
      retryBackoffMs: 10,
    });
    assert.equal(out[1]!.status, status);
    assert.match(String(out[1]!.data), new RegExp(`^Update Result ${result}: [a-z ]+$`, 'i'));
    assert.equal(d.writes(), 1);
    assert.deepEqual(retried, []);
  });

test('Update Result 4 with no time left for the wait and a new try ends at once, saying why', async () => {
  const d = device(4);
  const t0 = Date.now();
  const out = await runFirmware(commands, d.run, {
    deadline: t0 + 2_500,
    cancelled: () => false,
    fetchPackage: async () => new Uint8Array(),
    retryBackoffMs: 2_000,
  });
  assert.deepEqual(out[1], {
    status: 503,
    data: "Update Result 4: connection lost during download (1 try; no time left for another before the device's timeout)",
    format: 'chr',
  });
  assert.equal(d.writes(), 1);
  assert.ok(Date.now() - t0 < 1_000, 'no wait that could not lead anywhere');
});

test('Update Result 4 is tried again with a doubling wait, 3 tries in all', async () => {
  const d = device(4);
  const retried: { try: number; backoffMs: number }[] = [];
  const out = await runFirmware(commands, d.run, {
    deadline: Date.now() + 20_000,
    cancelled: () => false,
    fetchPackage: async () => new Uint8Array(),
    retrying: (r) => retried.push(r),
    retryBackoffMs: 20,
  });
  assert.equal(out[1]!.data, 'Update Result 4: connection lost during download (3 tries)');
  assert.equal(d.writes(), 3);
  assert.deepEqual(
    retried.map((r) => [r.try, r.backoffMs]),
    [
      [2, 20],
      [3, 40],
    ],
  );
});
