// `gwmo codec …`: the conversions, loaded only when a codec command runs.
import { readFile, writeFile } from 'node:fs/promises';

import type { Message } from '../../protocol/model.ts';
import { DecodeError } from '../../protocol/errors.ts';
import { decodeWbxml, encodeWbxml } from '../../protocol/wbxml/index.ts';
import { decodeXml, encodeXml } from '../../protocol/xml/index.ts';
import { CliError } from '../cli-error.ts';

export async function xmlToWbxml(input: string | undefined, output: string | undefined): Promise<void> {
  const msg = decode(await readInput(input), decodeXml, input);
  await writeOutput(output, encodeWbxml(msg));
}

export async function wbxmlToXml(input: string | undefined, output: string | undefined, opts: { doctype?: boolean }): Promise<void> {
  const msg = decode(await readInput(input), decodeWbxml, input);
  const xml = encodeXml(msg, { doctype: opts.doctype === true });
  await writeOutput(output, output === undefined ? Buffer.concat([xml, Buffer.from('\n')]) : xml);
}

function decode(bytes: Uint8Array, decoder: (b: Uint8Array) => Message, name: string | undefined): Message {
  try {
    return decoder(bytes);
  } catch (err) {
    if (err instanceof DecodeError) throw new CliError(`${name ?? 'stdin'}: ${err.message} (${err.code})`);
    throw err;
  }
}

async function readInput(path: string | undefined): Promise<Uint8Array> {
  if (path !== undefined && path !== '-') {
    try {
      return new Uint8Array(await readFile(path));
    } catch (err) {
      throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

async function writeOutput(path: string | undefined, bytes: Uint8Array): Promise<void> {
  if (path === undefined || path === '-') {
    await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
    return;
  }
  try {
    await writeFile(path, bytes);
  } catch (err) {
    throw new CliError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
