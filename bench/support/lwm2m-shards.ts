// The simulated LwM2M fleet of `npm run bench -- lwm2m` as child processes of at most SHARD devices
// each: one UDP socket per device, and a process may hold 20,000 descriptors here (`ulimit -Hn`).
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';

export const SHARD = 10_000;

export interface Shard {
  readonly child: ChildProcess;
  /** host:port of each of its devices, in endpoint order */
  readonly addresses: readonly string[];
}

/** Devices lw<first>…lw<first+count-1>, registered with the gateway at `server` (coap://…). */
export async function startShards(server: string, first: number, count: number): Promise<Shard[]> {
  const shards: Shard[] = [];
  for (let at = first; at < first + count; at += SHARD) {
    const n = Math.min(SHARD, first + count - at);
    const child = fork(new URL('./lwm2m-fleet.ts', import.meta.url), [server, String(at), String(n)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    // one after the other: registering is the gateway's work, and shards at once only compete for it
    try {
      const addresses = await new Promise<string[]>((resolve, reject) => {
        child.once('message', (m: { addresses?: string[] }) =>
          m.addresses ? resolve(m.addresses) : reject(new Error('fleet: no addresses')),
        );
        child.once('exit', (code) => reject(new Error(`a fleet shard exited with ${code}`)));
      });
      shards.push({ child, addresses });
    } catch (err) {
      // the shards already up would outlive the bench (their sockets keep them running)
      child.kill('SIGINT');
      stopShards(shards);
      throw err;
    }
  }
  return shards;
}

/** Every device of the shards sets /3303/0/5700 once a second for `seconds`; resolves with how many values changed. */
export async function changeValues(shards: readonly Shard[], seconds: number): Promise<number> {
  const counts = await Promise.all(
    shards.map(
      (s) =>
        new Promise<number>((resolve) => {
          const on = (m: { changed?: number }): void => {
            if (m.changed === undefined) return;
            s.child.off('message', on);
            resolve(m.changed);
          };
          s.child.on('message', on);
          s.child.send({ notify: seconds });
        }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/** The bench fleet's PSK of a device over coaps:// (its identity is its endpoint name). */
export function benchKey(identity: string): Buffer {
  return createHash('sha256').update(`bench-psk:${identity}`).digest().subarray(0, 16);
}

export function stopShards(shards: readonly Shard[]): void {
  for (const s of shards) s.child.kill('SIGINT');
}
