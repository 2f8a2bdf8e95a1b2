// The progress renderer: a redrawn line on a terminal, plain lines elsewhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Progress } from '../../src/cli/progress.ts';

/** a stream object that records what is written (a terminal when isTTY is true) */
function stream(isTTY: boolean, columns = 100): { isTTY: boolean; columns: number; out: string[]; write(s: string): boolean } {
  return {
    isTTY,
    columns,
    out: [],
    write(s) {
      this.out.push(s);
      return true;
    },
  };
}

test('not a terminal: plain progress lines, the first, every 5 % and the last', () => {
  const s = stream(false);
  const p = new Progress(s, 100, { label: 'devices' });
  for (let i = 0; i <= 100; i++) p.update(i);
  p.finish();
  assert.equal(s.out[0], 'progress 0/100 devices\n');
  assert.equal(s.out[1], 'progress 5/100 devices\n');
  assert.equal(s.out.at(-1), 'progress 100/100 devices\n');
  assert.equal(s.out.length, 21);
  assert.ok(s.out.every((l) => /^progress \d+\/100 devices\n$/.test(l) && !l.includes('\r')));
});

test('not a terminal: finish prints the value reached when the throttle skipped it', () => {
  const s = stream(false);
  const p = new Progress(s, 1000);
  p.update(0);
  p.update(7);
  p.finish();
  assert.deepEqual(s.out, ['progress 0/1000\n', 'progress 7/1000\n']);
});

test('a terminal: one line redrawn with \\r, bar, done/total, rate and ETA', () => {
  let now = 0;
  const s = stream(true);
  const p = new Progress(s, 100, { label: 'devices', now: () => now, redrawMs: 100 });
  now = 2000;
  p.update(40);
  assert.equal(s.out[0], '\r[##########--------------] 40/100 devices  20.0/s  ETA 3s\x1b[K');
  now = 2050;
  p.update(41); // within the redraw interval: not drawn
  assert.equal(s.out.length, 1);
  now = 5000;
  p.update(100);
  p.finish();
  assert.equal(s.out[1], '\r[########################] 100/100 devices  20.0/s  done\x1b[K');
  assert.equal(s.out.at(-1), '\n', 'the line is ended once');
  assert.ok(s.out.slice(0, -1).every((w) => w.startsWith('\r') && !w.includes('\n')));
});

test('a terminal: the line fits the width and the ETA reads in minutes', () => {
  let now = 0;
  const s = stream(true, 40);
  const p = new Progress(s, 10_000, { label: 'a rather long label for the operation', now: () => now });
  now = 10_000;
  p.update(100);
  const line = s.out[0]!.slice(1, -'\x1b[K'.length);
  assert.equal(line.length, 39);
  const wide = stream(true, 200);
  now = 0;
  const q = new Progress(wide, 10_000, { now: () => now });
  now = 10_000;
  q.update(100);
  assert.match(wide.out[0]!, /10\.0\/s {2}ETA 16m30s/);
});
