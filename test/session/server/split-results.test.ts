// Results a device cannot fit in one message go on in the next message of its package (same
// CmdRef, no Final yet): the server keeps the Get open until the package ends, so nothing the
// device sent is lost. Real server and client over HTTP, with small messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startPair } from '../../support/dm-pair.ts';

test("a Get's Results spread over several messages are all kept, and so are Results that come a message after their Status", async () => {
  const pair = await startPair({ serverMaxMsgSize: 4096 });
  try {
    for (let i = 0; i < 120; i++) pair.tree.define(`./Vendor/big/n${i}`, { value: `value-${i}-${'x'.repeat(20)}` });
    const s = pair.server.service;
    const whole = await s.queue(pair.deviceId, { kind: 'Get', path: './Vendor/big?list=StructData' });
    const leaves = [];
    for (let i = 0; i < 60; i++) leaves.push(await s.queue(pair.deviceId, { kind: 'Get', path: `./Vendor/big/n${i}` }));
    const report = await pair.agent.session();
    assert.equal(report.end, 'done', report.error);
    assert.ok(report.messages > 3, `the answers took ${report.messages} messages`);
    const tree = await s.operation(whole.id);
    assert.equal(tree.status, 200);
    assert.equal(tree.results?.length, 121, 'the interior node and its 120 leaves');
    assert.equal(tree.results?.[120]?.data, `value-119-${'x'.repeat(20)}`);
    for (const [i, op] of (await Promise.all(leaves.map((o) => s.operation(o.id)))).entries())
      assert.deepEqual([op.status, op.results?.[0]?.data], [200, `value-${i}-${'x'.repeat(20)}`], `Get n${i}`);
  } finally {
    await pair.close();
  }
});
