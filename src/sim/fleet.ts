// A fleet of simulated devices in one process: DM devices (each with a Package#0 listener, sharing
// one HTTP client) or LwM2M devices (each with its own UDP endpoint). Registration shows progress.
import type { ClientQuirks } from '../session/client/quirks.ts';
import { DmDevice } from '../client/device.ts';
import type { ClientQuirk } from '../client/quirks.ts';
import { DmHttpClient } from '../transport/index.ts';
import { Lwm2mDevice, type Lwm2mDeviceOptions } from './lwm2m-device.ts';

export interface FleetOptions {
  readonly protocol: 'dm' | 'lwm2m';
  readonly count: number;
  /** DM: the DM server (or gateway LAN) URL; LwM2M: coap://host:port */
  readonly serverUrl: string;
  readonly serverId: string;
  readonly password: string;
  readonly serverPassword?: string;
  readonly prefix: string;
  /** DM devices behave like some deployed clients (src/client/quirks.ts); they then talk XML */
  readonly wireQuirks?: readonly ClientQuirk[];
  /** behaviours of deployed clients the DM devices take on (docs/interop.md) */
  readonly quirks?: ClientQuirks;
  /** LwM2M devices: the version they register with, the formats they speak, block size, queue mode */
  readonly lwm2m?: Pick<Lwm2mDeviceOptions, 'version' | 'formats' | 'blockSize' | 'queue' | 'bootstrap'>;
  readonly progress?: (registered: number, count: number) => void;
}

export interface Fleet {
  readonly size: number;
  stop(): Promise<void>;
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const http = new DmHttpClient({ maxSockets: 64, retries: 3, retryDelay: async () => {} });
  const stops: (() => Promise<void>)[] = [];
  const BATCH = 64;
  for (let i = 0; i < o.count; i += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, o.count - i) }, async (_, k) => {
        const id = `${o.prefix}${i + k}`;
        if (o.protocol === 'lwm2m') {
          // with a bootstrap account, the server is what bootstrap names
          const d = new Lwm2mDevice({ endpoint: id, ...(o.lwm2m?.bootstrap ? {} : { server: o.serverUrl }), ...o.lwm2m });
          await d.start();
          stops.push(async () => {
            await d.deregister().catch(() => undefined);
            await d.stop();
          });
          return;
        }
        const d = new DmDevice(
          {
            deviceId: id,
            serverUrl: o.serverUrl,
            serverId: o.serverId,
            username: 'device',
            password: o.password,
            ...(o.serverPassword ? { serverPassword: o.serverPassword } : {}),
            auth: 'md5',
            // quirks that reorder markup are rewrites of XML text
            encoding: o.wireQuirks?.length ? 'xml' : 'wbxml',
            ...(o.wireQuirks?.length ? { wireQuirks: o.wireQuirks } : {}),
            manufacturer: 'gwmo',
            model: 'fleet',
            language: 'en',
            firmware: '1.0.0',
            notifyHost: '127.0.0.1',
            notifyPort: 0,
            checkInSeconds: 0,
            ...(o.quirks ? { quirks: o.quirks } : {}),
          },
          undefined,
          () => {},
          http,
        );
        await d.start();
        const r = await d.session();
        if (r.end !== 'done') throw new Error(`${id}: first session ${r.end}${r.error ? `: ${r.error}` : ''}`);
        stops.push(() => d.stop());
      }),
    );
    o.progress?.(Math.min(i + BATCH, o.count), o.count);
  }
  return {
    size: stops.length,
    async stop() {
      for (const s of stops) await s();
      http.close();
    },
  };
}
