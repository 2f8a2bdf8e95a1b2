import type { Command } from 'commander';

export function registerNotification(program: Command): void {
  program.command('notification').description('Package#0: not built yet');
}
