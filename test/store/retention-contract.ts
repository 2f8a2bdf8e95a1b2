// Retention against each server store backend (SQLite and PostgreSQL in retention.test.ts): the
// pruner removes exactly the finished rows past their policy, in batches, and nothing still open.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Registry } from 'prom-client';

import { Pruner, type ServerRetention, storeSteps } from '../../src/server/retention.ts';
import type { OperationState, ServerStore } from '../../src/store/server.ts';

const DAY = 86_400_000;
const NOW = 100 * DAY;
const device = (deviceId: string) =>
  ({ deviceId, scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 }) as const;
const NEVER = { days: 0 };

async function op(s: ServerStore, id: string, deviceId: string, state: OperationState, at: number): Promise<void> {
  await s.queueOperation({ id, deviceId, kind: 'Get', target: './x' }, at);
  if (state === 'queued') return;
  await s.takeOperations(deviceId, 1, at);
  if (state !== 'sent') await s.finishOperation(id, { state, status: state === 'accepted' ? 202 : 200 }, at);
}

const ids = async (s: ServerStore, deviceId: string): Promise<string[]> => (await s.listOperations(deviceId)).map((o) => o.id).sort();

export function retentionContract(backend: string, open: () => Promise<ServerStore>): void {
  test(`${backend}: the age prune removes finished operations, alerts and device jobs past their age, and nothing open`, async () => {
    const s = await open();
    try {
      await s.putDevice(device('D'));
      const old = NOW - 10 * DAY;
      for (const state of ['done', 'failed', 'queued', 'sent', 'accepted'] as const) await op(s, `old-${state}`, 'D', state, old);
      await op(s, 'new-done', 'D', 'done', NOW - DAY / 2);
      await s.addAlert({ deviceId: 'D', code: 1226, items: [], receivedAt: old });
      const kept = await s.addAlert({ deviceId: 'D', code: 1226, items: [], receivedAt: NOW - DAY / 2 });
      const job = (id: string, state: 'pending' | 'dispatched' | 'done', at: number) =>
        s.putDeviceJob({ id, deviceId: 'D', commands: [], state, createdAt: at, updatedAt: at });
      await job('j-old-done', 'done', old);
      await job('j-old-pending', 'pending', old);
      await job('j-old-dispatched', 'dispatched', old);
      await job('j-new-done', 'done', NOW - DAY / 2);

      const registry = new Registry();
      const retention: ServerRetention = { operations: { days: 1 }, alerts: { days: 1 }, deviceJobs: { days: 1 } };
      const pruner = new Pruner({ steps: storeSteps(s, () => retention), intervalMs: 0, registry, now: () => NOW });
      assert.deepEqual(await pruner.runOnce(), { operations: 2, alerts: 1, deviceJobs: 1 });

      assert.deepEqual(await ids(s, 'D'), ['new-done', 'old-accepted', 'old-queued', 'old-sent']);
      assert.deepEqual(
        (await s.listAlerts('D')).map((a) => a.id),
        [kept.id],
      );
      assert.deepEqual((await s.listDeviceJobs('D')).map((j) => j.id).sort(), ['j-new-done', 'j-old-dispatched', 'j-old-pending']);
      const metric = await registry.getSingleMetricAsString('gwmo_retention_pruned_total');
      assert.match(metric, /gwmo_retention_pruned_total\{kind="operations"\} 2/);
      assert.match(metric, /gwmo_retention_pruned_total\{kind="alerts"\} 1/);
      assert.match(metric, /gwmo_retention_pruned_total\{kind="deviceJobs"\} 1/);
      assert.deepEqual(await pruner.runOnce(), {}, 'a second run finds nothing more');
    } finally {
      await s.close();
    }
  });

  test(`${backend}: the count prune keeps each device's newest finished operations and alerts, and every open one`, async () => {
    const s = await open();
    try {
      // more devices than one step looks at, so the cursor moves on
      const devices = Array.from({ length: 205 }, (_, i) => `D${String(i).padStart(3, '0')}`);
      for (const d of devices) await s.putDevice(device(d));
      for (let i = 0; i < 8; i++) await op(s, `a${i}`, 'D000', 'done', NOW - i);
      await op(s, 'a-queued', 'D000', 'queued', NOW - 100);
      await op(s, 'a-accepted', 'D000', 'accepted', NOW - 100);
      for (let i = 0; i < 2; i++) await op(s, `b${i}`, 'D001', 'done', NOW - i);
      for (let i = 0; i < 6; i++) await op(s, `z${i}`, 'D204', 'failed', NOW - i);
      for (let i = 0; i < 7; i++) await s.addAlert({ deviceId: 'D204', code: 1226, items: [], receivedAt: NOW - 7 + i });

      const retention: ServerRetention = { operations: { days: 0, perDevice: 3 }, alerts: { days: 0, perDevice: 2 }, deviceJobs: NEVER };
      const pruner = new Pruner({ steps: storeSteps(s, () => retention), intervalMs: 0, now: () => NOW });
      assert.deepEqual(await pruner.runOnce(), { operations: 5 + 3, alerts: 5 });
      // queued in order a0 (newest time, first queued) … a7: the newest by queue order are a5, a6, a7
      assert.deepEqual(await ids(s, 'D000'), ['a-accepted', 'a-queued', 'a5', 'a6', 'a7']);
      assert.deepEqual(await ids(s, 'D001'), ['b0', 'b1']);
      assert.deepEqual(await ids(s, 'D204'), ['z3', 'z4', 'z5']);
      assert.equal((await s.listAlerts('D204')).length, 2);
    } finally {
      await s.close();
    }
  });

  test(`${backend}: a large prune goes in batches, and check-ins run between them`, async () => {
    const s = await open();
    try {
      await s.putDevice(device('D'));
      await s.batch(async () => {
        for (let i = 0; i < 800; i++) await op(s, `o${i}`, 'D', 'done', 1);
      });
      await op(s, 'open', 'D', 'queued', 1);
      const retention: ServerRetention = { operations: { days: 1 }, alerts: NEVER, deviceJobs: NEVER };
      const pruner = new Pruner({ steps: storeSteps(s, () => retention, 25), intervalMs: 0, now: () => NOW });
      // PostgreSQL: the connections a check-in and a prune use at once, opened before the clock starts
      for (let i = 0; i < 2; i++) await Promise.all([s.touchDevice('D', NOW), s.pruneOlder('alerts', 0, 1)]);
      let pruning = true;
      let checkIns = 0;
      let slowest = 0;
      const run = pruner.runOnce().finally(() => (pruning = false));
      while (pruning) {
        // a check-in arrives as its own event (an HTTP request), then runs its statement
        await new Promise<void>((resolve) => setImmediate(resolve));
        const t0 = performance.now();
        await s.touchDevice('D', NOW);
        slowest = Math.max(slowest, performance.now() - t0);
        if (pruning) checkIns++;
      }
      assert.deepEqual(await run, { operations: 800 });
      assert.ok(pruner.statements >= 32, `800 rows in batches of 25 are at least 32 statements, were ${pruner.statements}`);
      if (backend === 'sqlite') assert.ok(checkIns >= 2, `check-ins went on while it pruned (${checkIns})`);
      // PostgreSQL: a check-in's round trip on a loaded machine can outlast the whole prune (each DELETE
      // is a few ms), so what is asserted is that none waited on it (no lock held across batches)
      else assert.ok(slowest < 1000, `a check-in waited ${slowest.toFixed(0)} ms while it pruned`);
      assert.deepEqual(await ids(s, 'D'), ['open']);
    } finally {
      await s.close();
    }
  });
}
