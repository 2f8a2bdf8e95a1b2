// One time format in the whole API: every time field the OpenAPI document describes is an ISO 8601
// string (format date-time); test/api/contract.test.ts checks the answers against it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { openApiDocument } from '../../src/api/openapi.ts';

const TIME_NAME = /(At|^since|^lastSeen|^at)$/;

/** every object property in the document whose name says it holds a time, with where it is */
function timeFields(node: unknown, at: string, out: { at: string; schema: Record<string, unknown> }[]): void {
  if (node === null || typeof node !== 'object') return;
  const properties = (node as { properties?: Record<string, Record<string, unknown>> }).properties;
  if (properties) for (const [k, v] of Object.entries(properties)) if (TIME_NAME.test(k)) out.push({ at: `${at}.${k}`, schema: v });
  for (const [k, v] of Object.entries(node)) timeFields(v, `${at}.${k}`, out);
}

test('every time field in the OpenAPI document is an ISO 8601 string (format date-time), none epoch milliseconds', () => {
  const found: { at: string; schema: Record<string, unknown> }[] = [];
  timeFields(openApiDocument, '$', found);
  assert.ok(found.length >= 15, `${found.length} time fields found`);
  const wrong = found
    .filter((f) => f.schema['type'] !== 'string' || f.schema['format'] !== 'date-time')
    .map((f) => `${f.at}: ${JSON.stringify(f.schema)}`);
  assert.deepEqual(wrong, []);
  assert.ok(
    found.some((f) => f.at.endsWith('Image.createdAt')),
    'images are covered',
  );
  assert.ok(
    found.some((f) => f.at.endsWith('DeviceJob.updatedAt')),
    'device jobs are covered',
  );
});
