// The long scale-out soak: node scripts/soak.ts [seconds=300] [gateways=4] [devices=25]. Same
// scenario as test/e2e/soak.test.ts (test/support/soak.ts), bigger and longer; prints its figures.
import { runSoak } from '../test/support/soak.ts';

const [seconds = '300', gateways = '4', devices = '25'] = process.argv.slice(2);
const f = await runSoak({ seconds: Number(seconds), gateways: Number(gateways), devices: Number(devices), log: (l) => console.log(l) });
console.log(
  `\n${gateways} gateways × ${devices} devices, 2 server instances on one PostgreSQL, ${f.seconds.toFixed(0)} s; restarted: ${f.restarts.join(', ')}`,
);
console.log(`RESULT soak_fanouts ${f.fanouts}`);
console.log(`RESULT soak_results ${f.results}`);
console.log(`RESULT soak_wrong ${f.wrong.length}`);
console.log(`RESULT soak_rss_first_mb ${f.rssFirstMb.toFixed(0)}`);
console.log(`RESULT soak_rss_last_mb ${f.rssLastMb.toFixed(0)}`);
for (const w of f.wrong) console.log(`wrong: ${w}`);
process.exitCode = f.wrong.length === 0 ? 0 : 1;
