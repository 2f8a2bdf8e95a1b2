// `gwmo gateway`'s options; the code that runs it is imported by the action (../run/gateway.ts).
import type { Command } from 'commander';

import type { Flags } from '../run/gateway.ts';

export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('run a DM gateway (GwMO): a DM client of the server northbound, a DM server for end devices on its LAN side')
    .option('--device-id <id>', "the gateway's own DevId", 'GW:0001')
    .option('--server-url <url>', "the DM server's endpoint", 'http://127.0.0.1:8080/dm')
    .option('--server-id <id>', "the server's ServerID", 'gwmo')
    .option('--username <name>', 'name the gateway authenticates with at the server', 'gateway')
    .option('--password <secret>', 'its secret at the server (or --enrol-secret)')
    .option('--enrol-secret <secret>', 'no account yet: obtain one from the server with its enrolment credential (kept in the data dir)')
    .option('--server-password <secret>', "the server's secret (SRVCRED): verifies Package#0 and the server")
    .option('--auth <scheme>', 'basic, md5 or hmac toward the server', 'md5')
    .option('--encoding <enc>', 'xml or wbxml toward the server', 'wbxml')
    .option('--lan-host <address>', 'address the LAN-side DM server listens on', '127.0.0.1')
    .option('--lan-port <n>', 'its TCP port (0 = any free port)', '8081')
    .option('--lan-server-id <id>', 'the ServerID devices have for the gateway', 'gwmo-gateway')
    .option('--device-user <name>', 'name end devices enrol with', 'device')
    .option('--device-password <secret>', 'secret end devices enrol with (any device presenting it gets an account)')
    .option('--lan-server-password <secret>', "the gateway's secret toward devices (their SRVCRED; Package#0 to them)")
    .option(
      '--lan-server-nonce <base64>',
      'the nonce devices are provisioned with for the gateway\'s Cred ("" = empty; default: the resync nonce, docs/auth.md)',
    )
    .option('--lwm2m-host <address>', 'address the LwM2M server (adaptation mode, CoAP over UDP) listens on', '127.0.0.1')
    .option('--lwm2m-port <n>', 'its UDP port (0 = any free port; "off" = no LwM2M)', '5683')
    .option('--lwm2m-awake <seconds>', 'LwM2M queue mode: seconds a device listens after it last spoke (LwM2M 1.1 MAX_TRANSMIT_WAIT)', '93')
    .option(
      '--lwm2m-bootstrap-port <n>',
      'LwM2M bootstrap server for NoSec devices on --lwm2m-host (coap://; 0 = any free port; "off" = none): gives devices what ./GwMO/LwM2MCredentials holds',
      'off',
    )
    .option(
      '--lwm2m-bootstrap-dtls-port <n>',
      'the bootstrap server over DTLS (coaps://, each device\'s bootstrap PSK; 0 = any free port; "off" = none)',
      'off',
    )
    .option('--lwm2m-server-uri <uri>', 'the coap:// URI bootstrap hands out for the plain LwM2M listener (default: coap://<its address>)')
    .option('--lwm2m-dtls-port <n>', 'UDP port of coaps:// (LwM2M over DTLS 1.2 with PSKs; 0 = any free port; "off" = none)', 'off')
    .option('--lwm2m-secure-only', 'only coaps://: no plain CoAP (NoSec) listener at all')
    .option(
      '--lwm2m-psk-file <path>',
      'PSKs of coaps:// devices, one "identity endpoint hexkey" a line (besides those the DM server provisions)',
    )
    .option('--push-channel', 'behind NAT: keep a long-poll open at the server for Package#0 instead of (or besides) listening')
    .option('--notify-host <address>', 'address the Package#0 listener binds (northbound)', '127.0.0.1')
    .option('--notify-port <n>', 'UDP port for Package#0 from the server (0 = any free port)', '0')
    .option('--check-in <seconds>', 'seconds between sessions with the server (0 = at start and for alerts only)', '60')
    .option('--data-dir <dir>', 'where gateway.db, south.db and tree.db are kept', './data/gateway')
    .option('--metrics-token <token>', 'GET /metrics on the LAN listener needs "authorization: Bearer <token>" (default: open)')
    .action(async (f: Flags) => (await import('../run/gateway.ts')).runGateway(f));
}
