#!/usr/bin/env node
// The `gwmo` command. A checkout runs its TypeScript sources (Node's type stripping, Node >= 24); an
// installed package runs the JavaScript built into dist/, since Node strips no types under node_modules.
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`gwmo needs Node 24 or newer (this is ${process.version}); in a checkout, npx gwmo ... uses the bundled one`);
  process.exit(1);
}

// Compiled (and type-stripped) modules kept between runs: without them a short command spends most of
// its time compiling. Kept in the user's own cache directory, not a shared one under /tmp where another
// user could plant code; NODE_COMPILE_CACHE, when set, has already chosen. A failure only costs speed.
if (!process.env.NODE_COMPILE_CACHE) {
  try {
    const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'gwmo');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // imported here, after the version check: an older Node has no enableCompileCache, and a static
    // import of it would fail before the check could say what is needed
    const { enableCompileCache } = await import('node:module');
    enableCompileCache(dir);
  } catch {
    // no writable home: run without the cache
  }
}

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'src', 'cli', 'main.ts');
const built = join(root, 'dist', 'cli', 'main.js');
const fromSource = existsSync(source) && !root.split(sep).includes('node_modules');
if (!fromSource && !existsSync(built)) {
  console.error(`gwmo: ${built} is missing: under node_modules Node runs no TypeScript, so gwmo runs the JavaScript npm run build makes`);
  process.exit(1);
}
await import(pathToFileURL(fromSource ? source : built).href);
