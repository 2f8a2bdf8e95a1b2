// Checks an API answer against the OpenAPI document: the status is one the operation documents,
// and a JSON body matches the documented schema (the subset of JSON Schema openapi.ts uses).
import { openApiDocument } from '../../src/api/openapi.ts';

type Schema = Record<string, any>;
const doc = openApiDocument as unknown as { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema> } };

/** the documented path template a concrete path matches, e.g. /api/devices/IMEI%3A1 → /api/devices/{deviceId} */
export function templateOf(path: string): string | undefined {
  const parts = path.split('?')[0]!.split('/');
  // a literal segment beats a parameter: /api/me/password is not /api/me/{x}
  const candidates = Object.keys(doc.paths).filter((t) => {
    const ts = t.split('/');
    return ts.length === parts.length && ts.every((s, i) => s.startsWith('{') || s === parts[i]);
  });
  return candidates.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

function resolve(s: Schema): Schema {
  return s['$ref'] ? resolve(doc.components.schemas[String(s['$ref']).replace('#/components/schemas/', '')]!) : s;
}

/** problems found in `value` against `schema`, each naming where */
export function validate(value: unknown, schema: Schema, at = '$'): string[] {
  const s = resolve(schema);
  if (value === null) return s['nullable'] ? [] : [`${at} is null`];
  const out: string[] = [];
  const type = s['type'] as string | undefined;
  const actual = Array.isArray(value) ? 'array' : typeof value;
  if (type === 'integer' ? !Number.isInteger(value) : type !== undefined && type !== actual) return [`${at} is ${actual}, not ${type}`];
  // one time format in the whole API: ISO 8601 UTC as Date#toISOString writes it
  if (s['format'] === 'date-time' && (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)))
    out.push(`${at} = ${JSON.stringify(value)} is not an ISO 8601 date-time`);
  if (s['enum'] && !(s['enum'] as unknown[]).includes(value))
    out.push(`${at} = ${JSON.stringify(value)} is not one of ${JSON.stringify(s['enum'])}`);
  if (type === 'object' && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    for (const r of (s['required'] as string[] | undefined) ?? []) if (!(r in v)) out.push(`${at}.${r} is missing`);
    const props = (s['properties'] ?? {}) as Record<string, Schema>;
    for (const [k, item] of Object.entries(v)) {
      if (props[k]) out.push(...validate(item, props[k]!, `${at}.${k}`));
      else if (s['additionalProperties'] && typeof s['additionalProperties'] === 'object')
        out.push(...validate(item, s['additionalProperties'] as Schema, `${at}.${k}`));
    }
  }
  if (type === 'array' && Array.isArray(value) && s['items'])
    value.forEach((item, i) => out.push(...validate(item, s['items'] as Schema, `${at}[${i}]`)));
  return out;
}

/** problems with one answer: undocumented path, method or status, or a body off its schema */
export function checkAnswer(method: string, path: string, status: number, body: unknown): string[] {
  const template = templateOf(path);
  if (!template) return [`${path} is not in the OpenAPI document`];
  const op = doc.paths[template]![method.toLowerCase()];
  if (!op) return [`${method} ${template} is not in the OpenAPI document`];
  const response = op['responses'][String(status)];
  if (!response)
    return [`${method} ${template} answered ${status}, which it does not document (${Object.keys(op['responses']).join(', ')})`];
  const schema = response['content']?.['application/json']?.['schema'] as Schema | undefined;
  return schema && body !== undefined ? validate(body, schema).map((p) => `${method} ${template} ${status}: ${p}`) : [];
}
