// With a store several server instances share (PostgreSQL), what another instance finishes wakes
// the waiters of this one: an API call waiting on an operation (?wait=, a gateway query) whose
// device's session landed elsewhere, or a device job whose result alert arrived elsewhere; and an
// alert any instance stored reaches the alert streams of this one.
import type { ServerStore } from '../store/server.ts';
import type { DeviceJobs } from './device-jobs.ts';
import type { ServerService } from './service.ts';

export function followSharedStore(
  store: ServerStore,
  service: ServerService,
  jobs: DeviceJobs,
  log?: (e: string, f: Record<string, unknown>) => void,
): void {
  store.watch?.((change) => {
    const seen =
      change.kind === 'operation'
        ? store.getOperation(change.id).then((op) => op && service.operationChanged(op))
        : change.kind === 'alert'
          ? service.alertFeed.watchers === 0
            ? Promise.resolve()
            : store.getAlert(Number(change.id)).then((a) => a && service.alertFeed.publish(a))
          : store.getDeviceJob(change.id).then((job) => job && jobs.jobChanged(job));
    seen.catch((err: unknown) => log?.('store.watch.error', { change, error: String(err) }));
  });
}
