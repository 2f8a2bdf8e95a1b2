import type { Command } from 'commander';

export function registerCodec(program: Command): void {
  program.command('codec').description('XML <-> WBXML: not built yet');
}
