// `gwmo device`'s options; the code that runs it is imported by the action (../run/device.ts).
import type { Command } from 'commander';

export function registerDevice(program: Command): void {
  program
    .command('device')
    .description('run a simulated DM device: a DM client with a persistent tree that listens for Package#0 and checks in')
    .option('--device-id <id>', 'DevId', 'IMEI:359881234567890')
    .option('--server-url <url>', "the DM server's endpoint", 'http://127.0.0.1:8080/dm')
    .option('--server-id <id>', "the server's ServerID", 'gwmo')
    .option('--username <name>', 'name the device authenticates with (CLCRED AAuthName)', 'device')
    .option('--password <secret>', 'its secret (CLCRED AAuthSecret)')
    .option('--server-password <secret>', "the server's secret (SRVCRED): verifies Package#0 and the server")
    .option('--auth <scheme>', 'basic, md5 or hmac', 'md5')
    .option('--encoding <enc>', 'xml or wbxml', 'xml')
    .option('--manufacturer <text>', 'DevInfo/Man', 'gwmo')
    .option('--model <text>', 'DevInfo/Mod', 'sim-1')
    .option('--language <tag>', 'DevInfo/Lang', 'en-US')
    .option('--firmware <version>', 'DevDetail/FwV', '1.0.0')
    .option('--notify-host <address>', 'address the Package#0 listener binds', '127.0.0.1')
    .option('--notify-port <n>', 'UDP port for Package#0 (0 = any free port)', '0')
    .option('--check-in <seconds>', 'seconds between client-initiated sessions (0 = only at start)', '0')
    .option('--data-dir <dir>', 'where the device tree is kept (device-<id>.db)', './data')
    .option('--tree <path>', 'SQLite file for the tree instead (":memory:" keeps nothing)')
    .option('--once', 'one session, then exit (0 when it completed)')
    .option('--ca <file>', 'PEM CA to trust for an HTTPS server')
    .option(
      '--direct-server-url <url>',
      'transparent mode: a DM server the device also has an account with (its Package#0 comes via a gateway)',
    )
    .option('--direct-server-id <id>', "that server's ServerID")
    .option('--direct-username <name>', 'name at that server')
    .option('--direct-password <secret>', 'secret at that server')
    .option('--direct-server-password <secret>', "that server's secret (verifies its Package#0)")
    .option('--routable', 'B.1: the Package#0 address is reachable from anywhere (reported as DevInfo/Ext/PublicAddress)')
    .option(
      '--protocol <p>',
      'dm, or lwm2m for an LwM2M 1.1 client (then --server-url is coap://host:port of the gateway, --device-id the endpoint name)',
      'dm',
    )
    .option('--lifetime <seconds>', 'LwM2M registration lifetime', '300')
    .option('--bootstrap <uri>', 'LwM2M: start from this bootstrap server only (coap:// or coaps://host:port); it names the server')
    .option('--psk-identity <identity>', 'LwM2M: PSK identity of the coaps:// account (--bootstrap, else --server-url)')
    .option('--psk <hex>', 'LwM2M: its pre-shared key, hex (16–64 bytes)')
    .option('--psk-key <hex>', 'LwM2M: the same as --psk')
    .option('--lwm2m-version <v>', 'LwM2M version it registers with: 1.0, 1.1 or 1.2', '1.1')
    .option(
      '--lwm2m-formats <f>',
      'value formats it speaks besides text and opaque: json (SenML JSON), tlv, cbor (SenML CBOR) or all (default: tlv for 1.0, all otherwise)',
    )
    .option('--block-size <bytes>', 'LwM2M: largest CoAP block it sends or takes (RFC 7959 block-wise; 16…1024)')
    .option('--queue', 'LwM2M: queue mode (sleeps, wakes with an Update, listens --awake seconds)')
    .option('--awake <seconds>', 'LwM2M queue mode: seconds it listens after it last spoke (default 5)')
    .option('--sleep <seconds>', 'LwM2M queue mode: seconds asleep, or a range to wake at random (default 20-40)')
    .action(async (cli: Record<string, string | boolean | undefined>) => (await import('../run/device.ts')).runDevice(cli));
}
