// The DM endpoint over real HTTP under 100,000 mutated messages: every answer is a DM message or a
// 4xx/503 with a message (never a 500, a reset or a hang), memory stays flat, and a real device
// still completes a session afterwards. `npm run fuzz -- --target dm --runs 1000000` runs longer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { fuzzDmEndpoint } from '../support/dm-fuzz.ts';
import { startPair } from '../support/dm-pair.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

// the fuzz tests parsing: wrong credentials are neither delayed nor locked (test/security/dm-auth.test.ts tests that)
const NO_LOCKOUT = { perDevice: 1e9, perAddress: 1e9, delayMs: 0, maxDelayMs: 0 };

const RUNS = Number(process.env['GWMO_DM_FUZZ_RUNS'] ?? 100_000);

test(`${RUNS} mutated DM messages over HTTP: only DM answers or 4xx, memory flat, sessions still work`, { timeout: 600_000 }, async () => {
  const p = await startPair({ scheme: 'basic', authLimits: NO_LOCKOUT });
  try {
    await p.server.service.addDevice({ deviceId: 'urn:fuzz:victim-device', name: 'victim', password: 'victim-secret', scheme: 'basic' });
    const good = { deviceId: p.deviceId, name: 'dev1', password: 'dev-secret' };
    const victim = { deviceId: 'urn:fuzz:victim-device', name: 'victim', password: 'victim-secret' };
    // a first slice warms the code up, so the heap is measured after it
    await fuzzDmEndpoint({ url: p.url, good, victim, runs: Math.min(5000, RUNS), seed: 7 });
    const before = heapMb();
    const report = await fuzzDmEndpoint({ url: p.url, good, victim, runs: RUNS, seed: 11 });
    const after = heapMb();
    assert.equal(Object.values(report.statuses).reduce((a, b) => a + b, 0) >= RUNS, true);
    assert.ok(report.sessions > 0, `later messages reached live sessions: ${JSON.stringify(report)}`);
    assert.ok(
      (report.statuses[200] ?? 0) > 0 && (report.statuses[400] ?? 0) > 0,
      `both outcomes reached: ${JSON.stringify(report.statuses)}`,
    );
    assert.ok(after - before < 30, `heap ${before.toFixed(1)} → ${after.toFixed(1)} MB`);
    // still serving: a real device completes a session with an operation in it
    const op = await p.server.service.queue(p.deviceId, { kind: 'Get', path: './DevInfo/Mod' });
    const r = await p.agent.session();
    assert.equal(r.end, 'done', r.error);
    assert.equal((await p.server.service.operation(op.id)).status, 200);
  } finally {
    await p.close();
  }
});
