// Longer fuzzing than CI's: npm run fuzz -- [--runs N] [--seed S] [--target codec|dm|dtls|all]
// codec: both decoders in process; dm: the DM endpoint of a real server over HTTP (see
// test/support/dm-fuzz.ts), with the heap measured before and after; dtls: the DTLS record and
// handshake parsers and the DTLS server's handler (test/support/dtls-fuzz.ts).
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { fuzzDmEndpoint } from '../test/support/dm-fuzz.ts';
import { fuzzDtls } from '../test/support/dtls-fuzz.ts';
import { startPair } from '../test/support/dm-pair.ts';
import { decoders, fuzz, seeds } from '../test/support/fuzz.ts';

// parsing is fuzzed, not lockout: wrong credentials are neither delayed nor locked
const NO_LOCKOUT = { perDevice: 1e9, perAddress: 1e9, delayMs: 0, maxDelayMs: 0 };

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000000' },
    seed: { type: 'string', default: String(Date.now() % 1e9) },
    target: { type: 'string', default: 'codec' },
  },
});
const runs = Number(values.runs);
const seed = Number(values.seed);
if (!Number.isInteger(runs) || runs <= 0 || !Number.isInteger(seed)) {
  console.error('fuzz: --runs and --seed take whole numbers');
  process.exit(2);
}
if (!['codec', 'dm', 'dtls', 'all'].includes(values.target)) {
  console.error(`fuzz: --target is codec, dm, dtls or all, not ${values.target}`);
  process.exit(2);
}

if (values.target === 'dtls' || values.target === 'all') {
  const started = performance.now();
  const report = await fuzzDtls(runs, seed);
  console.log(
    `dtls: ${runs} runs (seed ${seed}), parsers ${report.parsers.decoded} parsed / ${report.parsers.refused} refused, server ${JSON.stringify(report.stats)}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  if (report.stats.internalErrors > 0) process.exitCode = 1;
}

if (values.target === 'codec' || values.target === 'all') {
  const corpus = seeds(200);
  for (const [name, decode] of Object.entries(decoders)) {
    const started = performance.now();
    const report = fuzz(decode, name === 'xml' ? corpus.xml : corpus.wbxml, runs, seed);
    console.log(
      `${name}: ${report.runs} runs (seed ${seed}), ${report.decoded} decoded, ${report.refused} refused, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
}

if (values.target === 'dm' || values.target === 'all') {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heapMb = (): number => (gc(), process.memoryUsage().heapUsed / 2 ** 20);
  const p = await startPair({ scheme: 'basic', authLimits: NO_LOCKOUT });
  try {
    await p.server.service.addDevice({ deviceId: 'urn:fuzz:victim-device', name: 'victim', password: 'victim-secret', scheme: 'basic' });
    const targets = {
      good: { deviceId: p.deviceId, name: 'dev1', password: 'dev-secret' },
      victim: { deviceId: 'urn:fuzz:victim-device', name: 'victim', password: 'victim-secret' },
    };
    await fuzzDmEndpoint({ url: p.url, ...targets, runs: 5000, seed: seed + 1 });
    const before = heapMb();
    const started = performance.now();
    const report = await fuzzDmEndpoint({
      url: p.url,
      ...targets,
      runs,
      seed,
      progress: (n) => n % 100_000 === 0 && console.log(`dm: ${n} runs, heap ${heapMb().toFixed(1)} MB`),
    });
    console.log(
      `dm: ${runs} runs (seed ${seed}) over HTTP, answers ${JSON.stringify(report.statuses)}, ${report.sessions} sessions, heap ${before.toFixed(1)} → ${heapMb().toFixed(1)} MB, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    await p.close();
  }
}
