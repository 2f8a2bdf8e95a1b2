// A device with a small fixed reply buffer (it aborts a session whose message asks for more Results
// than it holds): its unanswered Gets go back to the queue at once, the next session sends half as
// many per message, and every one of them completes; the change shows in the API.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startPair } from '../support/dm-pair.ts';

test('150 Gets to a device that fails above 60 Results: the aborted batch is queued again at once and the next session completes it', async (t) => {
  const p = await startPair({ quirks: { replyBuffer: 60 } });
  t.after(() => p.close());
  const s = p.server.service;
  const ops = [];
  for (let i = 0; i < 150; i++) ops.push(await s.queue(p.deviceId, { kind: 'Get', path: './DevInfo/Mod' }));
  const first = await p.agent.session();
  assert.equal(first.end, 'aborted');
  const states = await Promise.all(ops.map(async (o) => (await s.operation(o.id)).state));
  assert.deepEqual([...new Set(states)], ['queued'], 'none left "sent" until a timeout');
  const api = `${p.url.replace(/\/dm$/, '')}/api/devices/${encodeURIComponent(p.deviceId)}`;
  const view = (await (await fetch(api)).json()) as { sessionProfile: Record<string, unknown> };
  assert.equal(view.sessionProfile['effectiveCommandsPerMessage'], 50, 'half of the 100 it could not answer');

  const second = await p.agent.session();
  assert.equal(second.end, 'done', second.error);
  const out = await Promise.all(ops.map((o) => s.operation(o.id)));
  assert.deepEqual([...new Set(out.map((o) => `${o.state} ${o.status}`))], ['done 200']);
});
