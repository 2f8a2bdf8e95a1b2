// The soak's trend figures (bench/soak.ts): a least-squares fit, not the first and last sample.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { endOverStart, fitLine } from './trend.ts';

test('fitLine finds the line through noisy samples, and nothing from fewer than two distinct x', () => {
  const xs = [0, 1, 2, 3, 4, 5];
  const line = fitLine(
    xs,
    xs.map((x, i) => 10 + 2 * x + (i % 2 ? 0.5 : -0.5)),
  )!;
  assert.ok(Math.abs(line.slope - 2) < 0.2, String(line.slope));
  assert.ok(Math.abs(line.intercept - 10) < 0.6, String(line.intercept));
  assert.equal(fitLine([1], [1]), undefined);
  assert.equal(fitLine([3, 3], [1, 2]), undefined);
});

test('endOverStart: flat rounds with a slow first and last one stay near 1; a steady climb shows', () => {
  const flat = Array.from({ length: 100 }, () => 0.5);
  flat[0] = 2; // a slow first round, the fit is not moved by it the way a two-sample ratio would be
  flat[99] = 2;
  assert.ok(Math.abs(endOverStart(flat)! - 1) < 0.05, String(endOverStart(flat)));
  const climbing = Array.from({ length: 100 }, (_, i) => 0.4 + i * 0.004);
  assert.ok(Math.abs(endOverStart(climbing)! - (0.4 + 99 * 0.004) / 0.4) < 1e-9);
  assert.equal(endOverStart([]), undefined);
});

test("warmUpEnd: the soak's warm-up lasts until V8's committed heap first peaks, at least 60 s, at most half the life", async () => {
  const { warmUpEnd } = await import('../../bench/soak.ts');
  const at = (s: number, heapTotal?: number) => ({ at: s, mb: 100, anon: 50, ...(heapTotal === undefined ? {} : { heapTotal }) });
  // the heap peaks at 180 s and is given back after: the warm-up ends there
  assert.equal(warmUpEnd([at(0, 20), at(60, 40), at(180, 85), at(300, 50), at(1800, 84)]), 180);
  // a heap that keeps growing (a leak): the trend is still fitted over the second half
  assert.equal(warmUpEnd([at(0, 20), at(600, 40), at(1200, 60), at(1800, 80)]), 900);
  assert.equal(warmUpEnd([at(10, 30), at(20, 20), at(1000, 25)]), 70);
  // no /metrics (a fleet): a quarter of its life
  assert.equal(warmUpEnd([at(0), at(400)]), 100);
});
