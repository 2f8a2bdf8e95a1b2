import { CliError } from './cli-error.ts';

export function port(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`${name} must be a port number 0–65535, got "${text}"`);
  return n;
}

export function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new CliError(`${name} must be a number ≥ 0, got "${text}"`);
  return n;
}

export function count(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`${name} must be a whole number 1–${max}, got "${text}"`);
  return n;
}

export function oneOf<T extends string>(name: string, text: string, values: readonly T[]): T {
  if (!values.includes(text as T)) throw new CliError(`${name} must be one of ${values.join(', ')}, got "${text}"`);
  return text as T;
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** A size in bytes: `1048576`, `500MiB`, `10GiB`, `2GB`. */
export function byteSize(name: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new CliError(`${name} must be a size such as 10GiB, 500MiB or 1048576 (bytes), got "${text}"`);
  return Math.floor(Number(m[1]) * unit);
}
