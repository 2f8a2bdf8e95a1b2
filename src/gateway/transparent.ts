// Transparent mode (TMode-001, B.2): the server hands the gateway a Package#0 built for an end
// device; the gateway checks what it can (well-formed, sent for the server it serves, not seen
// before), forwards the bytes unchanged on the LAN, and the device opens its own session with the
// server. The digest itself only the device can check: it is keyed with the device's credentials.
import { decodeNotification, NotificationError } from '../protocol/index.ts';
import type { GatewayStore } from '../store/gateway.ts';
import type { ServerStore } from '../store/server.ts';

export interface TriggerOutcome {
  /** DM status: 200 forwarded, 400 malformed, 403 not our server, 404 unknown device, 409 replay, 410 detached, 412 incomplete, 503 no address */
  readonly status: number;
  readonly reason: string;
}

const REPLAY_WINDOW_MS = 24 * 60 * 60 * 1000;

export class TransparentForwarder {
  private readonly gstore: GatewayStore;
  private readonly south: ServerStore;
  private readonly serverId: string;
  private readonly send: (bytes: Uint8Array, host: string, port: number) => Promise<void>;
  private readonly now: () => number;
  /** digests and (server, session id) pairs already forwarded, per device, with when */
  private readonly seen = new Map<string, number>();

  constructor(o: {
    gstore: GatewayStore;
    south: ServerStore;
    serverId: string;
    send: (bytes: Uint8Array, host: string, port: number) => Promise<void>;
    now: () => number;
  }) {
    this.gstore = o.gstore;
    this.south = o.south;
    this.serverId = o.serverId;
    this.send = o.send;
    this.now = o.now;
  }

  async forward(deviceId: string, bytes: Uint8Array | undefined): Promise<TriggerOutcome> {
    if (!deviceId || !bytes || bytes.length === 0) return { status: 412, reason: 'DeviceID and Notification are both needed' };
    const device = this.gstore.getDevice(deviceId);
    if (!device) return { status: 404, reason: `no device ${deviceId} behind this gateway` };
    if (!device.attached) return { status: 410, reason: `${deviceId} is detached` };
    let n;
    try {
      n = decodeNotification(bytes);
    } catch (err) {
      if (err instanceof NotificationError) return { status: 400, reason: `not a Package#0: ${err.message}` };
      throw err;
    }
    if (n.serverId !== this.serverId)
      return { status: 403, reason: `the notification names server ${n.serverId}; this gateway serves ${this.serverId}` };
    const now = this.now();
    for (const [k, at] of this.seen) if (now - at > REPLAY_WINDOW_MS) this.seen.delete(k);
    const keys = [`${deviceId}|digest|${Buffer.from(n.digest).toString('hex')}`, `${deviceId}|session|${n.serverId}|${n.sessionId}`];
    if (keys.some((k) => this.seen.has(k)))
      return { status: 409, reason: 'replay: this notification (or its session id) was already delivered' };
    const address = (await this.south.getDevice(deviceId))?.notifyAddress;
    const m = address ? /^\[?([^\]]+)\]?:(\d+)$/.exec(address) : null;
    if (!m) return { status: 503, reason: `${deviceId} has not told the gateway where it listens for Package#0` };
    await this.send(bytes, m[1]!, Number(m[2]));
    for (const k of keys) this.seen.set(k, now);
    return { status: 200, reason: `forwarded to ${address}` };
  }
}
