// Mutation fuzzing of the decoders: deterministic (seeded xorshift), so a failure replays.
import fc from 'fast-check';

import { DecodeError } from '../../src/protocol/errors.ts';
import { decodeWbxml, encodeWbxml } from '../../src/protocol/wbxml/index.ts';
import { decodeXml, encodeXml } from '../../src/protocol/xml/index.ts';
import { message } from './arbitrary-message.ts';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }
  below(n: number): number {
    return this.next() % n;
  }
}

/** Seed messages: a fixed sample of generated models in both encodings. */
export function seeds(count = 40): { wbxml: Uint8Array[]; xml: Uint8Array[] } {
  const models = fc.sample(message(), { numRuns: count, seed: 42 });
  return { wbxml: models.map((m) => encodeWbxml(m)), xml: models.map((m) => encodeXml(m)) };
}

// Bytes that matter to the grammars: WBXML globals and common tags, XML markup characters.
const INTERESTING = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x40, 0x80, 0x83, 0xc3, 0xff, 0x7f, 0x3c, 0x3e, 0x2f, 0x26, 0x3b, 0x22, 0x5d, 0x6d, 0x4f, 0x12,
];

export function mutate(rng: Rng, input: Uint8Array, other: Uint8Array): Uint8Array {
  const out = Array.from(input);
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const at = out.length === 0 ? 0 : rng.below(out.length);
    switch (rng.below(7)) {
      case 0:
        out[at] = (out[at] ?? 0) ^ (1 << rng.below(8));
        break;
      case 1:
        out[at] = INTERESTING[rng.below(INTERESTING.length)]!;
        break;
      case 2:
        out.splice(at, 1 + rng.below(8));
        break;
      case 3:
        out.splice(at, 0, ...Array.from({ length: 1 + rng.below(8) }, () => rng.below(256)));
        break;
      case 4:
        out.length = at;
        break;
      case 5: {
        // splice a run of another input in
        const from = rng.below(Math.max(1, other.length));
        out.splice(at, rng.below(16), ...other.subarray(from, from + 1 + rng.below(32)));
        break;
      }
      default: {
        // duplicate a run (repeats nesting, grows lengths)
        const len = 1 + rng.below(24);
        out.splice(at, 0, ...out.slice(at, at + len));
      }
    }
  }
  return Uint8Array.from(out);
}

export interface FuzzReport {
  readonly runs: number;
  readonly decoded: number;
  readonly refused: number;
}

/** Runs `runs` mutated inputs through `decode`; anything but success or a DecodeError is thrown. */
export function fuzz(
  decode: (b: Uint8Array) => unknown,
  corpus: Uint8Array[],
  runs: number,
  seed: number,
  refusal: (err: unknown) => boolean = (err) => err instanceof DecodeError,
): FuzzReport {
  const rng = new Rng(seed);
  let decoded = 0;
  let refused = 0;
  for (let i = 0; i < runs; i++) {
    const input = mutate(rng, corpus[rng.below(corpus.length)]!, corpus[rng.below(corpus.length)]!);
    try {
      decode(input);
      decoded++;
    } catch (err) {
      if (!refusal(err)) {
        const e = new Error(`run ${i} (seed ${seed}): ${String(err)}; input ${Buffer.from(input).toString('hex')}`);
        e.cause = err;
        throw e;
      }
      refused++;
    }
  }
  return { runs, decoded, refused };
}

export const decoders = {
  wbxml: (b: Uint8Array): unknown => decodeWbxml(b),
  xml: (b: Uint8Array): unknown => decodeXml(b),
} as const;
