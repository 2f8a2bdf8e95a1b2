// DESIGN.md's layer table as a test: imports point downward only, and the pure core does no I/O.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');

// folder → the folders of ours it may import (besides itself)
const allowed: Readonly<Record<string, readonly string[]>> = {
  protocol: [],
  tree: ['protocol'],
  session: ['protocol', 'tree'],
  transport: ['protocol'],
  store: [],
  adapters: ['protocol', 'tree'],
  client: ['protocol', 'tree', 'session', 'transport', 'store'],
  server: ['protocol', 'tree', 'session', 'transport', 'store'],
  // the gateway's LAN side is a DM server: it reuses the server role rather than a copy of it
  gateway: ['protocol', 'tree', 'session', 'transport', 'store', 'adapters', 'client', 'server'],
  sim: ['protocol', 'tree', 'session', 'transport', 'client', 'adapters'],
  api: ['protocol', 'tree', 'session', 'transport', 'store', 'client', 'server', 'gateway'],
  web: ['api'],
  cli: ['protocol', 'tree', 'session', 'transport', 'store', 'adapters', 'client', 'server', 'gateway', 'sim', 'api', 'web'],
};
const PURE = new Set(['protocol', 'tree', 'session']);
const PURE_NODE_MODULES = new Set(['node:crypto', 'node:util', 'node:buffer']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

for (const file of files(SRC)) {
  const rel = relative(SRC, file);
  const layer = rel.split('/')[0] ?? '';
  test(`${rel} imports only what its layer (${layer}) may`, () => {
    assert.ok(layer in allowed, `src/${layer} is not a layer of DESIGN.md`);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? '';
      if (spec.startsWith('.')) {
        const target = relative(SRC, resolve(dirname(file), spec)).split('/')[0] ?? '';
        if (target !== layer) assert.ok(allowed[layer]?.includes(target), `${rel} imports ${spec} (layer ${target})`);
      } else if (PURE.has(layer) && spec.startsWith('node:')) {
        assert.ok(PURE_NODE_MODULES.has(spec), `${rel} is in the pure core and imports ${spec}`);
      }
    }
    if (PURE.has(layer)) {
      assert.doesNotMatch(text, /\b(setTimeout|setInterval|Date\.now)\s*\(/, `${rel} is in the pure core: time comes from a Clock`);
    }
  });
}
