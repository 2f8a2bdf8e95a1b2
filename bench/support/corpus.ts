import { readdirSync, readFileSync } from 'node:fs';

const CORPUS = new URL('../../test/vectors/corpus/', import.meta.url);

/** The DM messages of test/vectors/corpus, as written (XML bytes). */
export function loadCorpus(): { name: string; xml: Uint8Array }[] {
  return readdirSync(CORPUS)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((name) => ({ name, xml: new Uint8Array(readFileSync(new URL(name, CORPUS))) }));
}
