// npm run build (run by prepack): the JavaScript an installed package runs, since Node strips no types
// under node_modules. tsc turns src/ into dist/ (imports of ./x.ts become ./x.js, source maps with the
// sources inside); the dashboard's static files go beside the module that serves them.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(`${root}dist`, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
cpSync(`${root}src/web/ui`, `${root}dist/web/ui`, { recursive: true });
