// A DM device that moves between gateways' LANs on a timer (HLF-002 in the demo): it leaves one
// gateway and appears, same identity and tree, behind the next one.
import { DmDevice, type DeviceConfig } from '../client/device.ts';
import type { StoredNode, TreePersistence } from '../tree/index.ts';

export interface NomadOptions {
  readonly base: Omit<DeviceConfig, 'serverUrl'>;
  /** the LAN DM URLs of the gateways it visits, in turn */
  readonly lans: readonly string[];
  readonly everyMs: number;
  /** where its tree lives while it travels (default: memory) */
  readonly tree?: TreePersistence;
  readonly onMove?: (to: string, index: number) => void;
  readonly onError?: (err: unknown) => void;
}

export class NomadicDevice {
  private readonly o: NomadOptions;
  private device: DmDevice | undefined;
  private at = 0;
  private timer: NodeJS.Timeout | undefined;
  private moving: Promise<void> = Promise.resolve();
  private readonly tree: TreePersistence;

  constructor(o: NomadOptions) {
    this.o = o;
    this.tree = o.tree ?? memoryTree();
  }

  get where(): number {
    return this.at;
  }

  async start(): Promise<void> {
    await this.arrive(0);
    this.timer = setInterval(() => {
      this.moving = this.moving.then(() => this.move()).catch((err: unknown) => this.o.onError?.(err));
    }, this.o.everyMs);
    this.timer.unref();
  }

  /** leaves the current gateway and registers with the next */
  async move(): Promise<void> {
    await this.device?.stop();
    await this.arrive((this.at + 1) % this.o.lans.length);
    this.o.onMove?.(this.o.lans[this.at]!, this.at);
  }

  private async arrive(index: number): Promise<void> {
    this.at = index;
    // same persistence: the device keeps what was written into it while it travels
    this.device = new DmDevice({ ...this.o.base, serverUrl: this.o.lans[index]! }, this.tree);
    await this.device.start();
    await this.device.session();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.moving;
    await this.device?.stop();
  }
}

function memoryTree(): TreePersistence {
  const nodes = new Map<string, StoredNode>();
  return {
    load: () => [...nodes.values()],
    apply(puts, deletes) {
      for (const d of deletes) nodes.delete(d);
      for (const p of puts) nodes.set(p.path, p);
    },
  };
}
