// `gwmo notification …`'s commands; what they do is imported by the actions (../run/notification.ts).
import type { Command } from 'commander';

export function registerNotification(program: Command): void {
  const cmd = program.command('notification').description('DM 1.2 Package#0 (notification-initiated session)');
  cmd
    .command('decode')
    .description('decode a Package#0 given as hex; prints JSON')
    .argument('<hex>', 'the message as hex (spaces and a 0x prefix allowed)')
    .action(async (hex: string) => (await import('../run/notification.ts')).decodeCommand(hex));
  cmd
    .command('verify')
    .description('check the digest; exit 0 when it verifies, 1 when it does not')
    .argument('<hex>', 'the message as hex')
    .requiredOption('--server-id <id>', 'server identifier (DMAcc ServerID)')
    .requiredOption('--password <password>', 'server password (SRVCRED AAuthSecret)')
    .requiredOption('--nonce <text>', 'server nonce, taken as the bytes of this text')
    .action(async (hex: string, opts: { serverId: string; password: string; nonce: string }) =>
      (await import('../run/notification.ts')).verifyCommand(hex, opts),
    );
  cmd
    .command('encode')
    .description('build a Package#0; prints it as hex')
    .requiredOption('--server-id <id>', 'server identifier (DMAcc ServerID)')
    .requiredOption('--password <password>', 'server password (SRVCRED AAuthSecret)')
    .requiredOption('--nonce <text>', 'server nonce, taken as the bytes of this text')
    .requiredOption('--session-id <n>', 'session id 1–65535 (decimal or 0x hex)')
    .requiredOption('--ui-mode <m>', 'ui mode: 0 not specified, 1 background, 2 informative, 3 user interaction')
    .requiredOption('--initiator <who>', 'server or client')
    .option('--version <n>', 'notification version field', '12')
    .option('--vendor <hex>', 'vendor-specific trigger body as hex')
    .action(async (opts: Record<string, string>) => (await import('../run/notification.ts')).encodeCommand(opts));
}
