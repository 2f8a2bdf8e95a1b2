#!/usr/bin/env node
// gwmo runs its TypeScript sources directly, which needs Node's type stripping (Node >= 24).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`gwmo needs Node 24 or newer (this is ${process.version}); run it through npm (npm run gwmo -- ...) to use the bundled one`);
  process.exit(1);
}
await import('../src/cli/main.ts');
