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
