// A gateway run as its own process (so a test can SIGKILL it) against an in-process server, and a
// fanout started through that server.
import { encodeFragment, type Command } from '../../src/protocol/index.ts';
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
