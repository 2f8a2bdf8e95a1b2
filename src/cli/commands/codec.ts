// `gwmo codec …`'s commands; the conversions are imported by the actions (../run/codec.ts).
import type { Command } from 'commander';

export function registerCodec(program: Command): void {
  const codec = program.command('codec').description('convert SyncML DM messages between XML and WBXML');
  codec
    .command('xml2wbxml')
    .description('XML to WBXML 1.2 (files, or stdin/stdout when omitted)')
    .argument('[in]', 'XML file (default: stdin)')
    .argument('[out]', 'WBXML file (default: stdout)')
    .action(async (input?: string, output?: string) => (await import('../run/codec.ts')).xmlToWbxml(input, output));
  codec
    .command('wbxml2xml')
    .description('WBXML 1.1–1.3 to XML (files, or stdin/stdout when omitted)')
    .argument('[in]', 'WBXML file (default: stdin)')
    .argument('[out]', 'XML file (default: stdout)')
    .option('--doctype', 'write the SyncML DOCTYPE after the XML declaration')
    .action(async (input: string | undefined, output: string | undefined, opts: { doctype?: boolean }) =>
      (await import('../run/codec.ts')).wbxmlToXml(input, output, opts),
    );
}
