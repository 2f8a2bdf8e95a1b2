// `gwmo demo` (what `npm start` runs): a DM server, two gateways and a mixed fleet in one process on
// loopback, data under ./data/demo; a second start reuses it.
// Its options; the code that runs it is imported by the action (../run/demo.ts).
import type { Command } from 'commander';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the embedded demo: a DM server, two gateways and a mixed fleet on loopback (npm start)')
    .option('--host <address>', 'address the server listens on', '127.0.0.1')
    .option('--port <n>', "the server's port (API, DM)", '8080')
    .option('--dm <n>', 'DM devices per gateway (proxy mode)', '20')
    .option('--lwm2m <n>', 'LwM2M devices per gateway (adaptation mode)', '10')
    .option('--move-every <seconds>', 'the nomadic device moves to the other gateway this often', '180')
    .option('--data-dir <dir>', 'where the demo keeps its data', './data/demo')
    .action(async (f: Record<string, string>) => (await import('../run/demo.ts')).runDemo(f));
}
