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
