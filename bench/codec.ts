// npm run bench -- codec: encode+decode throughput of our XML and WBXML codecs over the corpus,
// side by side with libwbxml (C, in-process loop) in alternating rounds. A "message" = one decode
// and one encode of one corpus message.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { decodeWbxml, decodeXml, encodeWbxml, encodeXml } from '../src/protocol/index.ts';
import { loadCorpus } from './support/corpus.ts';
import { buildHarness, runHarness } from './support/libwbxml.ts';

const ROUNDS = 7;
const ROUND_SECONDS = 1;

function loop(seconds: number, once: () => void, perPass: number): number {
  let messages = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    once();
    messages += perPass;
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < seconds);
  return messages / elapsed;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function main(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? ROUNDS);
  const corpus = loadCorpus();
  const models = corpus.map((c) => decodeXml(c.xml));
  const wbxml = models.map((m) => encodeWbxml(m));
  const xml = models.map((m) => encodeXml(m));
  const outDir = fileURLToPath(new URL('./out/corpus/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  const files = corpus.map((c, i) => {
    const path = `${outDir}${c.name.replace(/\.xml$/, '.wbxml')}`;
    writeFileSync(path, wbxml[i]!);
    return path;
  });
  const harness = await buildHarness();
  const bytes = wbxml.reduce((n, b) => n + b.length, 0);
  console.log(
    `corpus: ${corpus.length} messages (test/vectors/corpus), ${bytes} bytes as WBXML, ${xml.reduce((n, b) => n + b.length, 0)} as XML`,
  );

  const ourWbxml = (): void => {
    for (const b of wbxml) encodeWbxml(decodeWbxml(b));
  };
  const ourXml = (): void => {
    for (const b of xml) encodeXml(decodeXml(b));
  };
  // warm-up: let the JIT settle before the first measured round
  loop(1, ourWbxml, corpus.length);
  loop(1, ourXml, corpus.length);

  const rates = { wbxml: [] as number[], libwbxml: [] as number[], xml: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    rates.wbxml.push(loop(ROUND_SECONDS, ourWbxml, corpus.length));
    rates.libwbxml.push((await runHarness(harness, ROUND_SECONDS, files)).msgs_per_s);
    rates.xml.push(loop(ROUND_SECONDS, ourXml, corpus.length));
    console.log(
      `round ${r + 1}/${rounds}: gwmo WBXML ${rates.wbxml[r]!.toFixed(0)}/s, libwbxml ${rates.libwbxml[r]!.toFixed(0)}/s, gwmo XML ${rates.xml[r]!.toFixed(0)}/s`,
    );
  }
  const m = { wbxml: median(rates.wbxml), libwbxml: median(rates.libwbxml), xml: median(rates.xml) };
  console.log('\n| codec (decode + encode) | messages/s (median of rounds) |');
  console.log('|---|---|');
  console.log(`| gwmo WBXML | ${m.wbxml.toFixed(0)} |`);
  console.log(`| libwbxml 0.11 (C) | ${m.libwbxml.toFixed(0)} |`);
  console.log(`| gwmo XML | ${m.xml.toFixed(0)} |\n`);
  console.log(`RESULT wbxml_vs_libwbxml ${(m.wbxml / m.libwbxml).toFixed(3)}`);
  console.log(`RESULT wbxml_msgs_per_s ${m.wbxml.toFixed(0)}`);
  console.log(`RESULT libwbxml_msgs_per_s ${m.libwbxml.toFixed(0)}`);
  console.log(`RESULT xml_msgs_per_s ${m.xml.toFixed(0)}`);
}
