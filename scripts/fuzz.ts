// Longer fuzzing than CI's: npm run fuzz -- [--runs N] [--seed S]
import { parseArgs } from 'node:util';

import { decoders, fuzz, seeds } from '../test/support/fuzz.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2000000' }, seed: { type: 'string', default: String(Date.now() % 1e9) } } });
const runs = Number(values.runs);
const seed = Number(values.seed);
if (!Number.isInteger(runs) || runs <= 0 || !Number.isInteger(seed)) {
  console.error('fuzz: --runs and --seed take whole numbers');
  process.exit(2);
}
const corpus = seeds(200);
for (const [name, decode] of Object.entries(decoders)) {
  const started = performance.now();
  const report = fuzz(decode, name === 'xml' ? corpus.xml : corpus.wbxml, runs, seed);
  console.log(`${name}: ${report.runs} runs (seed ${seed}), ${report.decoded} decoded, ${report.refused} refused, ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
