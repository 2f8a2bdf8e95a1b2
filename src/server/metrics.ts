// Prometheus metrics of one DM server instance (the gwmo server, or a gateway's LAN side), in a
// registry of its own: the demo runs a server and two gateways in one process. Served at /metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

import type { ServerDeps, GenericAlert } from '../session/server/index.ts';
import type { ServeCounters } from '../transport/http/files.ts';

type Encoding = 'xml' | 'wbxml';
type Notifier = { send(bytes: Uint8Array, host: string, port: number): Promise<void> };
type Push = { reachable(deviceId: string): Promise<boolean>; push(deviceId: string, bytes: Uint8Array): Promise<string> };

/** A counter that follows a running total kept elsewhere (read at scrape time). */
export function countFrom(registry: Registry, name: string, help: string, read: () => number, labels: Record<string, string> = {}): void {
  let counted = 0;
  new Counter({
    name,
    help,
    labelNames: Object.keys(labels),
    registers: [registry],
    collect() {
      const now = read();
      if (now > counted) this.inc(labels, now - counted);
      counted = now;
    },
  });
}

const text = (d: GenericAlert['items'][number]['data']): string => (typeof d === 'string' ? d : d ? Buffer.from(d).toString('utf8') : '');

export class DmMetrics {
  readonly registry: Registry;
  /** when set, GET /metrics needs `authorization: Bearer <token>` */
  token: string | undefined;
  private readonly role: string;
  private readonly started: Counter<'role'>;
  private readonly ended: Counter<'role' | 'outcome'>;
  private readonly messages: Counter<'role' | 'direction' | 'encoding'>;
  private readonly bytes: Counter<'role' | 'direction' | 'encoding'>;
  private readonly authFailures: Counter<'role' | 'scheme' | 'reason'>;
  private readonly lockouts: Counter<'role'>;
  private readonly lockedRefusals: Counter<'role'>;
  private readonly notifications: Counter<'role' | 'channel' | 'outcome'>;
  private readonly serverRefused: Counter<'role' | 'outcome'>;
  private readonly forwarded: Counter<'role' | 'outcome'>;
  /** devices behind each gateway, from the gateways' deviceattached / devicedetached alerts */
  private readonly behind = new Map<string, Set<string>>();
  private active: () => number = () => 0;
  private served: ServeCounters | undefined;

  constructor(role: string, registry = new Registry()) {
    this.role = role;
    this.registry = registry;
    // process_resident_memory_bytes, nodejs_heap_size_used_bytes, nodejs_external_memory_bytes…: a
    // months-long process's memory is the first thing an operator (and the soak bench) watches
    collectDefaultMetrics({ register: registry });
    const registers = [registry];
    this.started = new Counter({
      name: 'gwmo_dm_sessions_started_total',
      help: 'DM sessions started (the device authenticated or was challenged)',
      labelNames: ['role'],
      registers,
    });
    this.ended = new Counter({
      name: 'gwmo_dm_sessions_ended_total',
      help: 'DM sessions ended, by outcome (done, auth-failed, aborted, timeout)',
      labelNames: ['role', 'outcome'],
      registers,
    });
    this.messages = new Counter({
      name: 'gwmo_dm_messages_total',
      help: 'DM messages by direction (in = from devices) and encoding',
      labelNames: ['role', 'direction', 'encoding'],
      registers,
    });
    this.bytes = new Counter({
      name: 'gwmo_dm_message_bytes_total',
      help: 'bytes of DM messages by direction and encoding',
      labelNames: ['role', 'direction', 'encoding'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'gwmo_dm_auth_failures_total',
      help: 'wrong DM credentials, by the scheme challenged and reason (credentials; unknown-device: no account)',
      labelNames: ['role', 'scheme', 'reason'],
      registers,
    });
    this.lockouts = new Counter({
      name: 'gwmo_dm_auth_lockouts_total',
      help: 'locks set on a device at an address, or on an address, for failed DM authentications',
      labelNames: ['role'],
      registers,
    });
    this.lockedRefusals = new Counter({
      name: 'gwmo_dm_auth_locked_refusals_total',
      help: 'messages refused (HTTP 429) because the device or its address was locked',
      labelNames: ['role'],
      registers,
    });
    this.notifications = new Counter({
      name: 'gwmo_notifications_total',
      help: 'Package#0 deliveries by channel (udp, push) and outcome (sent, held, relayed to the instance holding the poll, failed)',
      labelNames: ['role', 'channel', 'outcome'],
      registers,
    });
    this.serverRefused = new Counter({
      name: 'gwmo_dm_server_auth_refused_total',
      help: "devices refusing the server's credentials (401/407 on its SyncHdr), by outcome (resent: the commands went again; gave-up: the session ended, the commands stay queued)",
      labelNames: ['role', 'outcome'],
      registers,
    });
    this.forwarded = new Counter({
      name: 'gwmo_dm_forwarded_total',
      help: "DM messages of another instance's session (a balancer sent them here), by outcome (relayed: the owner answered; owner-gone: answered here, no session; refused: a forward with a wrong signature)",
      labelNames: ['role', 'outcome'],
      registers,
    });
    const self = this;
    new Gauge({
      name: 'gwmo_dm_sessions_active',
      help: 'DM sessions under way',
      labelNames: ['role'],
      registers,
      collect() {
        this.set({ role: self.role }, self.active());
      },
    });
    new Gauge({
      name: 'gwmo_gateway_devices',
      help: 'devices attached behind each gateway, as the inventory alerts this server instance received since it started told (scope="instance": with several instances, each holds its share; the gateways\' gwmo_devices_attached is exact)',
      labelNames: ['gateway', 'scope'],
      registers,
      collect() {
        this.reset();
        for (const [gateway, devices] of self.behind) this.set({ gateway, scope: 'instance' }, devices.size);
      },
    });
    countFrom(registry, 'gwmo_image_bytes_served_total', 'image bytes sent to downloaders', () => this.served?.bytes ?? 0, { role });
    countFrom(registry, 'gwmo_image_requests_total', 'image downloads asked for', () => this.served?.requests ?? 0, { role });
  }

  /** the live values read at scrape time */
  observe(activeSessions: () => number, images?: ServeCounters): void {
    this.active = activeSessions;
    if (images) this.observeImages(images);
  }

  /** the image server's running totals (the server's, or a gateway's LAN image server) */
  observeImages(images: ServeCounters): void {
    this.served = images;
  }

  forward(outcome: 'relayed' | 'owner-gone' | 'refused'): void {
    this.forwarded.inc({ role: this.role, outcome });
  }

  message(direction: 'in' | 'out', encoding: Encoding, size: number): void {
    this.messages.inc({ role: this.role, direction, encoding });
    this.bytes.inc({ role: this.role, direction, encoding }, size);
  }

  /** The engine's deps, counting session starts and ends. */
  deps(base: ServerDeps): ServerDeps {
    const role = this.role;
    return {
      ...base,
      findAccount: async (deviceId) => {
        const account = await base.findAccount(deviceId);
        if (account) this.started.inc({ role });
        return account;
      },
      onSessionEnd: async (deviceId, summary) => {
        this.ended.inc({ role, outcome: summary.outcome });
        await base.onSessionEnd?.(deviceId, summary);
      },
    };
  }

  /** a wrong DM credential (scheme: basic, md5, hmac) */
  authFailed(scheme: string, reason: string): void {
    this.authFailures.inc({ role: this.role, scheme, reason });
  }

  /** a device refused our credentials; `gaveUp`: the session ended over it */
  serverAuthRefused(gaveUp: boolean): void {
    this.serverRefused.inc({ role: this.role, outcome: gaveUp ? 'gave-up' : 'resent' });
  }

  authLocked(): void {
    this.lockouts.inc({ role: this.role });
  }

  refusedLocked(): void {
    this.lockedRefusals.inc({ role: this.role });
  }

  notifier(inner: Notifier): Notifier {
    return {
      send: async (bytes, host, port) => {
        try {
          await inner.send(bytes, host, port);
          this.notifications.inc({ role: this.role, channel: 'udp', outcome: 'sent' });
        } catch (err) {
          this.notifications.inc({ role: this.role, channel: 'udp', outcome: 'failed' });
          throw err;
        }
      },
    };
  }

  push(inner: Push): Push {
    return {
      reachable: (deviceId) => inner.reachable(deviceId),
      push: async (deviceId, bytes) => {
        const outcome = await inner.push(deviceId, bytes);
        this.notifications.inc({ role: this.role, channel: 'push', outcome: outcome === 'delivered' ? 'sent' : outcome });
        return outcome;
      },
    };
  }

  /** Gateways report devices arriving and leaving with Generic Alerts (GwMO inventory alerts). */
  alert(gatewayId: string, alert: GenericAlert): void {
    for (const item of alert.items) {
      const type = item.type ?? '';
      const devices = this.behind.get(gatewayId) ?? new Set<string>();
      if (type.includes(':deviceattached')) {
        const id = /DeviceID="([^"]*)"/.exec(text(item.data))?.[1]?.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));
        if (!id) continue;
        // a device is behind one gateway at a time (HLF-002: it moved)
        for (const other of this.behind.values()) other.delete(id);
        devices.add(id);
        this.behind.set(gatewayId, devices);
      } else if (type.includes(':devicedetached')) {
        devices.delete(text(item.data).trim());
      }
    }
  }

  /** GET /metrics in the Prometheus text format. */
  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' }).end(JSON.stringify({ error: 'GET /metrics' }));
      return;
    }
    if (this.token !== undefined) {
      const given = Buffer.from(req.headers.authorization ?? '');
      const expected = Buffer.from(`Bearer ${this.token}`);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res
          .writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'the metrics token is needed: authorization: Bearer <token>' }));
        return;
      }
    }
    const body = await this.registry.metrics();
    res
      .writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' })
      .end(req.method === 'HEAD' ? undefined : body);
  }
}
