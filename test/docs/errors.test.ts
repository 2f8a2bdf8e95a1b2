// docs/errors.md must list exactly the codes the protocol core exports (and the warnings it emits).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { DecodeWarningCode } from '../../src/protocol/codec/options.ts';
import * as errors from '../../src/protocol/errors.ts';
import * as transport from '../../src/transport/errors.ts';

test('docs/errors.md lists every exported error code (protocol, transport) and nothing else', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/`([A-Z0-9]+_[A-Z0-9_]+)`/g)].map((m) => m[1]!));
  for (const w of Object.values(DecodeWarningCode)) assert.ok(documented.delete(w), `${w} documented`); // warnings, not error codes
  const exported = new Set<string>();
  for (const [name, value] of [...Object.entries(errors), ...Object.entries(transport)]) {
    if (name.endsWith('ErrorCode') && typeof value === 'object') for (const code of Object.values(value)) exported.add(code as string);
  }
  assert.deepEqual([...documented].sort(), [...exported].sort());
});
