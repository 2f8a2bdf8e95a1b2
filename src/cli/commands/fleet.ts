// `gwmo fleet`'s options; the code that runs it is imported by the action (../run/fleet.ts).
import type { Command } from 'commander';

export function registerFleet(program: Command): void {
  program
    .command('fleet')
    .description('run many simulated devices in one process (DM devices enrol with a gateway or server; LwM2M devices register)')
    .option('--count <n>', 'how many devices', '10')
    .option('--protocol <p>', 'dm or lwm2m', 'dm')
    .option('--server-url <url>', "DM: the gateway's LAN URL (or a server); LwM2M: coap://host:port", 'http://127.0.0.1:8081/dm')
    .option('--server-id <id>', 'ServerID the DM devices are given', 'gwmo-gateway')
    .option('--password <secret>', "DM devices' secret (the gateway's --device-password)")
    .option('--server-password <secret>', "the server's secret toward the DM devices (verifies Package#0)")
    .option('--prefix <text>', 'device ids are <prefix><n>', 'FLEET:')
    .option('--lwm2m-version <v>', 'LwM2M devices register as 1.0, 1.1 or 1.2', '1.1')
    .option('--lwm2m-formats <f>', 'LwM2M devices speak json, tlv, cbor or all (default: tlv for 1.0, all otherwise)')
    .option('--bootstrap <uri>', 'LwM2M: each device starts from this bootstrap server only (coap://host:port; NoSec devices)')
    .option('--block-size <bytes>', 'LwM2M: largest CoAP block it sends or takes (RFC 7959 block-wise; 16…1024)')
    .option('--queue', 'LwM2M: queue mode (sleeps, wakes with an Update, listens --awake seconds)')
    .option('--awake <seconds>', 'LwM2M queue mode: seconds it listens after it last spoke (default 5)')
    .option('--sleep <seconds>', 'LwM2M queue mode: seconds asleep, or a range to wake at random (default 20-40)')
    // the names are checked (and listed on a mistake) by the command's code, loaded when it runs
    .option(
      '--quirks <list>',
      'DM devices behave like some deployed clients: comma-separated names from docs/interop.md (markup quirks make them talk XML), e.g. status-no-cmdref,serverNonceNotPersisted,replyBuffer=60',
    )
    .action(async (f: Record<string, string | undefined>) => (await import('../run/fleet.ts')).runFleet(f));
}
