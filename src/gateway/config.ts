// The gateway configuration the DM server sets through ./GwMO/Config, with defaults.
import type { GatewayStore } from '../store/gateway.ts';

export interface ConfigField {
  /** node path under ./GwMO/Config */
  readonly path: string;
  readonly format: 'int' | 'bool' | 'chr';
  readonly writable: boolean;
  readonly default: string;
  readonly description: string;
  readonly check?: (value: string) => boolean;
}

const int =
  (min: number, max: number) =>
  (v: string): boolean =>
    /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max;

export const CONFIG_FIELDS: readonly ConfigField[] = [
  {
    path: 'DefaultMode',
    format: 'int',
    writable: true,
    default: '0',
    check: int(0, 3),
    description: 'mode for newly attached devices: 0 the gateway chooses from capability, 1 transparent, 2 proxy, 3 adaptation',
  },
  {
    path: 'InventoryAlerts/Attach',
    format: 'bool',
    writable: true,
    default: 'true',
    description: 'send deviceattached Generic Alerts (DI-004/005); on by default: the server learns from them where each device is',
  },
  { path: 'InventoryAlerts/Detach', format: 'bool', writable: true, default: 'false', description: 'send devicedetached Generic Alerts' },
  {
    path: 'DetachTimeout',
    format: 'int',
    writable: true,
    default: '300',
    check: int(1, 86_400 * 30),
    description: 'seconds of silence after which a device counts as detached (DI-003)',
  },
  {
    path: 'Fanout/MaxConcurrency',
    format: 'int',
    writable: true,
    default: '50',
    check: int(1, 10_000),
    description: 'devices worked on at once by a fanout',
  },
  {
    path: 'Fanout/DeviceTimeout',
    format: 'int',
    writable: true,
    default: '30',
    check: int(1, 86_400),
    description: 'seconds a device has to complete its commands',
  },
  {
    path: 'Fanout/Retries',
    format: 'int',
    writable: true,
    default: '1',
    check: int(0, 10),
    description: 'extra attempts for a device that timed out',
  },
  {
    path: 'ImageStore/Enabled',
    format: 'bool',
    writable: true,
    default: 'true',
    description: 'store images on the gateway for local download (DCIS-003)',
  },
  {
    path: 'ImageStore/QuotaBytes',
    format: 'int',
    writable: true,
    default: String(1024 ** 3),
    check: int(0, 2 ** 53 - 1),
    description: 'disk budget for stored images; unreferenced images are evicted to make room',
  },
  {
    path: 'Retention/JobSeconds',
    format: 'int',
    writable: true,
    default: String(7 * 86_400),
    check: int(0, 2 ** 31 - 1),
    description:
      'a finished fanout job and its per-device results are deleted this many seconds after it finished, once the server has had its result (0: kept)',
  },
  {
    path: 'Retention/Jobs',
    format: 'int',
    writable: true,
    default: '1000',
    check: int(0, 1_000_000),
    description: 'finished fanout jobs the server has had the result of, kept at most: the oldest beyond are deleted (0: no limit)',
  },
  {
    path: 'Retention/OperationSeconds',
    format: 'int',
    writable: true,
    default: String(7 * 86_400),
    check: int(0, 2 ** 31 - 1),
    description: "finished operations of the gateway's proxied devices, and their alerts, are deleted after this many seconds (0: kept)",
  },
  {
    path: 'Retention/OperationsPerDevice',
    format: 'int',
    writable: true,
    default: '100',
    check: int(0, 1_000_000),
    description: 'finished operations (and alerts) kept per proxied device: the oldest beyond are deleted (0: no limit)',
  },
  {
    path: 'Retention/IntervalSeconds',
    format: 'int',
    writable: true,
    default: '600',
    check: int(0, 86_400),
    description: 'how often the gateway deletes what is past its retention, in small batches (0: never)',
  },
  {
    path: 'ServerAccount',
    format: 'chr',
    writable: false,
    default: '',
    description: 'ServerID of the DMAcc the gateway uses for every proxied and adapted device (HLF-004)',
  },
];

const BY_PATH = new Map(CONFIG_FIELDS.map((f) => [f.path, f]));

export class GatewayConfig {
  private readonly store: GatewayStore;
  private readonly fixed: Readonly<Record<string, string>>;

  constructor(store: GatewayStore, fixed: Readonly<Record<string, string>> = {}) {
    this.store = store;
    this.fixed = fixed;
  }

  field(path: string): ConfigField | undefined {
    return BY_PATH.get(path);
  }

  get(path: string): string {
    return this.fixed[path] ?? this.store.getConfig(path) ?? BY_PATH.get(path)?.default ?? '';
  }

  /** A DM status: 200, 404 unknown node, 405 read-only, 400 bad value. */
  set(path: string, value: string): number {
    const f = BY_PATH.get(path);
    if (!f) return 404;
    if (!f.writable) return 405;
    const normalized = f.format === 'bool' ? value.toLowerCase() : value;
    if (f.format === 'bool' && normalized !== 'true' && normalized !== 'false') return 400;
    if (f.check && !f.check(normalized)) return 400;
    this.store.setConfig(path, normalized);
    return 200;
  }

  int(path: string): number {
    return Number(this.get(path));
  }

  bool(path: string): boolean {
    return this.get(path) === 'true';
  }
}
