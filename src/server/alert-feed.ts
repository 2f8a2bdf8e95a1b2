// New alerts, told to whoever streams them (GET /api/alerts/events) as they are stored: by this
// instance's DM sessions, or with a store several instances share, by any instance (heard through
// the store's change notifications, so each alert is told once, after it commits).
import type { AlertRow } from '../store/server.ts';

export type AlertListener = (alert: AlertRow) => void;

export class AlertFeed {
  private readonly listeners = new Set<AlertListener>();

  /** the listener hears every alert stored from now on; the function returned stops it */
  subscribe(listener: AlertListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(alert: AlertRow): void {
    for (const l of this.listeners) l(alert);
  }

  get watchers(): number {
    return this.listeners.size;
  }
}
