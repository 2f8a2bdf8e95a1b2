// The one rule for ids and names that people type and logs, tables and DM trees show (docs/access.md):
// printable text without control, format, surrogate or line-separator characters, no whitespace at
// either end, bounded length. A newline in a device id forges log lines; a bidi override hides what a
// name says.
export const MAX_ID = 256;
export const MAX_NAME = 128;

// Cc: C0, DEL, C1 · Cf: format (bidi overrides, zero-width) · Cs: lone surrogates · Zl, Zp: U+2028/9
export const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

/** What is wrong with `value` as an id (`kind` id) or a name, naming `field`; undefined when it is fine. */
export function identifierProblem(value: unknown, field: string, kind: 'id' | 'name' = 'id'): string | undefined {
  const max = kind === 'id' ? MAX_ID : MAX_NAME;
  if (typeof value !== 'string') return `${field} must be a string`;
  if (value.length === 0 || value.length > max) return `${field} must have 1–${max} characters`;
  const bad = UNPRINTABLE.exec(value);
  if (bad)
    return `${field} must be printable: U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at ${bad.index} is a control or format character`;
  if (value.trim() !== value) return `${field} must not start or end with whitespace`;
  return undefined;
}
