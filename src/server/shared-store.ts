// With a store several server instances share (PostgreSQL), what another instance finishes wakes
// the waiters of this one: an API call waiting on an operation (?wait=, a gateway query) whose
// device's session landed elsewhere, or a device job whose result alert arrived elsewhere.
import type { ServerStore } from '../store/server.ts';
import type { DeviceJobs } from './device-jobs.ts';
import type { ServerService } from './service.ts';

export function followSharedStore(store: ServerStore, service: ServerService, jobs: DeviceJobs, log?: (e: string, f: Record<string, unknown>) => void): void {
  store.watch?.((change) => {
    const seen = change.kind === 'operation'
      ? store.getOperation(change.id).then((op) => op && service.operationChanged(op))
      : store.getDeviceJob(change.id).then((job) => job && jobs.jobChanged(job));
    seen.catch((err: unknown) => log?.('store.watch.error', { change, error: String(err) }));
  });
}
