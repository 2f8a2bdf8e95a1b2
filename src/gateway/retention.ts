// The gateway's retention, as the server sets it in ./GwMO/Config/Retention: finished fanout jobs
// with their per-device results (kept until the server has had their result, then a bounded time),
// and its LAN-side store's finished operations and alerts. Pruned by the same batched runner as the
// server's (../server/retention.ts).
import { PRUNE_BATCH, type PruneStep, type ServerRetention, storeSteps } from '../server/retention.ts';
import type { GatewayStore } from '../store/gateway.ts';
import type { ServerStore } from '../store/server.ts';
import type { GatewayConfig } from './config.ts';

/** gateway store config key (not an MO node): when the last north session that delivered every queued alert started */
export const DELIVERED_KEY = '~north-delivered-at';
const DAY_S = 86_400;

/** the LAN-side store's retention, from the config MO */
export function lanRetention(config: GatewayConfig): ServerRetention {
  const days = config.int('Retention/OperationSeconds') / DAY_S;
  const perDevice = config.int('Retention/OperationsPerDevice');
  return { operations: { days, perDevice }, alerts: { days, perDevice }, deviceJobs: { days } };
}

/**
 * Finished jobs the server has had the result of: a job's completion and resultaggregation alerts
 * are queued when it finishes, so a north session that started after that and ended well carried
 * them (the server may also have read Results itself; holding a job a little longer is harmless).
 */
export function jobStep(store: GatewayStore, config: GatewayConfig, batch = PRUNE_BATCH): PruneStep {
  return {
    kind: 'gatewayJobs',
    async *run(now) {
      const keepS = config.int('Retention/JobSeconds');
      const keep = config.int('Retention/Jobs');
      const read = Number(store.getConfig(DELIVERED_KEY) ?? 0);
      if (read === 0 || (keepS <= 0 && keep <= 0)) return;
      // a job finished in the same millisecond as the session started counts as delivered: its alerts
      // were queued before the session took them (and carry the aggregate, should it be deleted first)
      const before = keepS > 0 ? Math.min(now - keepS * 1000, read) : -1;
      for (;;) {
        const names = store.prunableJobs(before, keep, read, batch);
        let removed = 0;
        for (const name of names) {
          // a job of 10,000 devices has as many results: they go a batch at a time
          while (store.deleteResults(name, batch) === batch) yield 0;
          if (store.deleteJob(name)) removed++;
        }
        yield removed;
        if (names.length < batch) return;
      }
    },
  };
}

export function gatewaySteps(store: GatewayStore, lan: ServerStore, config: GatewayConfig): PruneStep[] {
  return [jobStep(store, config), ...storeSteps(lan, () => lanRetention(config))];
}
