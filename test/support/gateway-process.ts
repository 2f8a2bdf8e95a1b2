// A gateway run as its own process (so a test can SIGKILL it) against an in-process server, and a
// fanout started through that server.
import { encodeFragment, type Command } from '../../src/protocol/index.ts';
import { DmHttpClient, type DmHttpMessage } from '../../src/transport/index.ts';
import { GW_ID, type startServer } from './gw-pair.ts';

/** `gwmo gateway` arguments for the test pair's server, a fixed LAN port and a data folder. */
export function gatewayArgs(serverUrl: string, lanPort: number, dataDir: string): string[] {
  return [
    'gateway',
    '--device-id',
    GW_ID,
    '--server-url',
    serverUrl,
    '--server-id',
    'srv',
    '--username',
    'gw',
    '--password',
    'gw-pw',
    '--server-password',
    'srv-pw',
    '--lan-port',
    String(lanPort),
    '--device-password',
    'lan-pw',
    '--lan-server-password',
    'lan-srv-pw',
    '--check-in',
    '0',
    '--lwm2m-port',
    '0',
    '--data-dir',
    dataDir,
  ];
}

/** The index of `IMEI:<15 digits>` device ids the test support hands out. */
export const imei = (i: number): string => `IMEI:${String(i).padStart(15, '0')}`;

/**
 * Creates and starts fanout `name` on the gateway through the server; resolves once the gateway
 * accepted the Start (202). `options`: Options leaves (Concurrency, Timeout, Retries).
 */
export async function startFanout(
  srv: Awaited<ReturnType<typeof startServer>>,
  name: string,
  deviceIds: readonly string[],
  commands: readonly Command[],
  options: Record<string, string> = {},
): Promise<string> {
  const ops = await Promise.all(
    [
      { kind: 'Add' as const, path: `./GwMO/Fanout/${name}`, format: 'node' },
      { kind: 'Add' as const, path: `./GwMO/Fanout/${name}/Commands`, value: encodeFragment(commands), format: 'xml' },
      ...Object.entries(options).map(([k, v]) => ({
        kind: 'Add' as const,
        path: `./GwMO/Fanout/${name}/Options/${k}`,
        value: v,
        format: 'int',
      })),
      ...deviceIds.map((id, i) => ({
        kind: 'Add' as const,
        path: `./GwMO/Fanout/${name}/Targets/${i}`,
        value: `./GwMO/DevInventory/Devices/${id}`,
      })),
      { kind: 'Exec' as const, path: `./GwMO/Fanout/${name}/Operations/Start` },
    ].map((o) => srv.server.service.queue(GW_ID, o)),
  );
  // wait on the operation, not the next session: deviceattached alerts open sessions of their own
  await srv.server.service.notify(GW_ID);
  const [start] = await srv.server.service.settle([ops[ops.length - 1]!.id], 20_000);
  if (start!.status !== 202) throw new Error(`fanout ${name} did not start: ${start!.status}`);
  return (await srv.server.service.operation(ops[ops.length - 1]!.id)).correlator!;
}

/** A repeatable random sequence for kill points: the seed is GWMO_CRASH_SEED or the clock, printed so a failure can be replayed. */
export function crashRandom(): () => number {
  let seed = Number(process.env['GWMO_CRASH_SEED'] ?? Date.now() % 100_000);
  console.log(`seed ${seed}`);
  return () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/** Devices' HTTP that calls `fire` as the n-th message after `arm` leaves: the device has acted on what came before, the gateway may never handle it. */
export class Tripwire extends DmHttpClient {
  private trip: { n: number; fire: () => void } | undefined;

  /** resolves when the n-th message from now has left */
  arm(n: number): Promise<void> {
    return new Promise<void>((fire) => (this.trip = { n, fire }));
  }

  disarm(): void {
    this.trip = undefined;
  }

  override post(url: string, message: DmHttpMessage): Promise<DmHttpMessage> {
    const sent = super.post(url, message);
    if (this.trip && --this.trip.n === 0) {
      this.trip.fire();
      this.trip = undefined;
    }
    return sent;
  }
}
