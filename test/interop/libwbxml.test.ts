// libwbxml (Debian libwbxml2-utils 0.11.8), an independent WBXML implementation, judges our WBXML
// codec over the corpus of realistic DM messages in test/vectors/corpus/.
//
//   source    a corpus file (XML, as a peer would send it)
//   model     decodeXml(source)
//   (a)       xml2wbxml -v 1.2 source, with a string table and without (-n) → decodeWbxml = model
//   (b)       encodeWbxml(model) → wbxml2xml → element tree = tree of encodeXmlString(model)
//                                               and = tree of the source (base64 canonicalised)
//
// What libwbxml changes on its way, and what we do about it:
// (a) xml2wbxml rewrites two things; the expected model is adjusted to match (libwbxmlView):
//   1. any text node that is exactly `application/vnd.syncml.dmtnds+xml` or
//      `application/vnd.syncml-devinf+xml` becomes `…+wbxml` (wbxml_encoder.c: it assumes the
//      embedded document gets converted to WBXML too; ours stays escaped text). In the corpus that
//      is the Meta Type of a `?list=TNDS` result.
//   2. the Data of an Item under Add or Replace is written as OPAQUE, and in that OPAQUE every line
//      feed becomes CR LF (its DS heuristic: "opaque data in SyncML can only be vCard or vCal").
//   Two more rewrites cannot be undone from the model, so the corpus avoids what triggers them (the
//   convention test below checks the first): blanks at the ends of a text outside Add/Replace Data
//   are stripped (we run without -k, as a peer would), and CR LF also appears in CDATA sections
//   outside Add/Replace (the corpus keeps those on one line).
// (b) libwbxml's decoder prints Data under Add/Replace as CDATA (the tree reads CDATA as text) and
//   never turns OPAQUE into base64. Base64 itself, reasoned out:
//   - Format b64: we write the base64 text as an inline string and libwbxml prints it verbatim, so it
//     equals our XML encoding. Against the source it is *our* spelling of the bytes: the model keeps
//     bytes, not text, so line breaks or missing padding in the source's base64 are gone. The only
//     rewrite of the source tree is therefore: b64 Data → canonical base64 (canonicalBase64); the
//     conventions keep the corpus canonical, so today it is a guard, not a difference.
//   - Format bin: we write OPAQUE raw bytes; libwbxml prints them raw, inside CDATA under Add/Replace
//     and as bare, unescaped text elsewhere. That equals the source text whenever the bytes are UTF-8
//     without markup characters, which any bin value in an XML corpus is (our XML encoder refuses
//     other bytes with MESSAGE_NOT_REPRESENTABLE); bin with `<` or `&` outside Add/Replace would make
//     wbxml2xml print malformed XML.
//   wbxml2xml runs with -k so that blanks our WBXML carries at the ends of a text are printed, not
//   stripped, and -m 0 (no indentation).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { decodeWbxml, decodeXml, encodeWbxml, encodeXmlString } from '../../src/protocol/index.ts';
import type { Message } from '../../src/protocol/index.ts';
import { childElement, firstDifference, mapTree, xmlTree } from '../support/xml-tree.ts';
import type { XmlElement } from '../support/xml-tree.ts';

const run = promisify(execFile);
const CORPUS = fileURLToPath(new URL('../vectors/corpus/', import.meta.url));
const names = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.xml'))
  .sort();
const INSTALL = 'libwbxml tools (xml2wbxml, wbxml2xml) are not on PATH: apt-get install libwbxml2-utils';

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };
interface Converted {
  readonly strtbl: Outcome<Uint8Array>; // xml2wbxml -v 1.2
  readonly noStrtbl: Outcome<Uint8Array>; // xml2wbxml -v 1.2 -n
  readonly back: Outcome<string>; // encodeWbxml → wbxml2xml -m 0 -k
}

const started = performance.now();
const missing = await toolsMissing();
const converted = missing ? new Map<string, Converted>() : await convertAll(names);
const convertMs = performance.now() - started;

test('the corpus holds at least 40 messages', (t) => {
  assert.ok(names.length >= 40, `${names.length} messages in ${CORPUS}`);
  t.diagnostic(`${names.length} messages; libwbxml runs took ${convertMs.toFixed(0)} ms`);
});

for (const name of names) {
  const source = readFileSync(join(CORPUS, name), 'utf8');

  test(`${name}: follows the corpus conventions`, () => {
    assert.ok(source.startsWith(PROLOG), 'starts with the XML declaration and the SyncML 1.2 DOCTYPE');
    const warnings: string[] = [];
    decodeXml(source, { onWarning: (w) => warnings.push(w.message) });
    assert.deepEqual(warnings, [], 'decodes without warnings');
    const problem = conventionProblem(xmlTree(source));
    assert.equal(problem, undefined, problem);
  });

  test(`${name}: libwbxml's WBXML with a string table decodes to the model of the XML`, () => {
    const wbxml = unwrap(converted.get(name)?.strtbl);
    assert.deepStrictEqual(decodeWbxml(wbxml), libwbxmlView(decodeXml(source)));
  });

  test(`${name}: libwbxml's WBXML without a string table decodes to the model of the XML`, () => {
    const wbxml = unwrap(converted.get(name)?.noStrtbl);
    assert.deepStrictEqual(decodeWbxml(wbxml), libwbxmlView(decodeXml(source)));
  });

  test(`${name}: our WBXML reads back through libwbxml as our XML and as the source`, () => {
    const back = xmlTree(unwrap(converted.get(name)?.back));
    const ours = xmlTree(encodeXmlString(decodeXml(source)));
    const vsOurs = firstDifference(back, ours);
    assert.equal(vsOurs, undefined, `libwbxml's reading vs our XML: ${vsOurs}`);
    const vsSource = firstDifference(back, canonicalBase64(xmlTree(source)));
    assert.equal(vsSource, undefined, `libwbxml's reading vs the source: ${vsSource}`);
  });
}

// --- libwbxml runs ------------------------------------------------------------------------------

async function toolsMissing(): Promise<boolean> {
  for (const tool of ['xml2wbxml', 'wbxml2xml']) {
    try {
      await run(tool, ['-h']);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    }
  }
  return false;
}

/** Every libwbxml run for the corpus: `width` files at a time, three runs each, in a temp dir removed before the tests run. */
async function convertAll(files: readonly string[]): Promise<Map<string, Converted>> {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-libwbxml-'));
  const out = new Map<string, Converted>();
  try {
    await pool(files, Math.min(4, Math.max(2, availableParallelism())), async (name) => {
      const src = join(CORPUS, name);
      const base = join(dir, name.replace(/\.xml$/, ''));
      const [strtbl, noStrtbl, back] = await Promise.all([
        attempt(async () => {
          await run('xml2wbxml', ['-v', '1.2', '-o', `${base}.strtbl.wbxml`, src]);
          return new Uint8Array(await readFile(`${base}.strtbl.wbxml`));
        }),
        attempt(async () => {
          await run('xml2wbxml', ['-v', '1.2', '-n', '-o', `${base}.nostrtbl.wbxml`, src]);
          return new Uint8Array(await readFile(`${base}.nostrtbl.wbxml`));
        }),
        attempt(async () => {
          await writeFile(`${base}.ours.wbxml`, encodeWbxml(decodeXml(await readFile(src))));
          await run('wbxml2xml', ['-m', '0', '-k', '-o', `${base}.back.xml`, `${base}.ours.wbxml`]);
          return readFile(`${base}.back.xml`, 'utf8');
        }),
      ]);
      out.set(name, { strtbl, noStrtbl, back });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

async function attempt<T>(job: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await job() };
  } catch (err) {
    const stderr = (err as { stderr?: unknown }).stderr;
    return { ok: false, error: typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : String(err) };
  }
}

function unwrap<T>(outcome: Outcome<T> | undefined): T {
  if (missing) assert.fail(INSTALL);
  if (outcome === undefined) assert.fail('no libwbxml run for this file');
  if (!outcome.ok) assert.fail(outcome.error);
  return outcome.value;
}

/** Runs `job` over `items` with at most `width` at a time (the CI machine has 2 cores). */
async function pool<T>(items: readonly T[], width: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await job(items[next++]!);
    }),
  );
}

// --- (a): what xml2wbxml is known to rewrite ------------------------------------------------------

const TYPE_REWRITE: ReadonlyMap<string, string> = new Map([
  ['application/vnd.syncml.dmtnds+xml', 'application/vnd.syncml.dmtnds+wbxml'],
  ['application/vnd.syncml-devinf+xml', 'application/vnd.syncml-devinf+wbxml'],
]);

/** The model as libwbxml's WBXML of the source carries it (rewrites 1 and 2 of the header comment). */
function libwbxmlView(model: Message): Message {
  return view(model, { underAddReplace: false, commandFormat: undefined }) as Message;
}

interface ViewCtx {
  readonly underAddReplace: boolean;
  readonly commandFormat: string | undefined;
}

function view(value: unknown, ctx: ViewCtx): unknown {
  if (typeof value === 'string') return TYPE_REWRITE.get(value.toLowerCase()) ?? value;
  if (Array.isArray(value)) return value.map((v) => view(v, ctx));
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const obj = value as Record<string, unknown>;
  let inner = ctx;
  if (typeof obj.kind === 'string') {
    const meta = obj.meta as { format?: string } | undefined;
    inner = { underAddReplace: obj.kind === 'Add' || obj.kind === 'Replace', commandFormat: meta?.format };
  }
  const isItem = obj.kind === undefined && ('target' in obj || 'source' in obj || 'data' in obj || 'meta' in obj);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(obj)) {
    if (key === 'data' && isItem && inner.underAddReplace) {
      const format = (obj.meta as { format?: string } | undefined)?.format ?? inner.commandFormat ?? 'chr';
      out[key] = crlf(v, format); // OPAQUE data: no type rewrite, line feeds become CR LF
    } else {
      out[key] = view(v, inner);
    }
  }
  return out;
}

function crlf(data: unknown, format: string): unknown {
  if (typeof data === 'string') return data.replace(/\n/g, '\r\n');
  if (data instanceof Uint8Array && format === 'bin') {
    return new Uint8Array(Buffer.from(Buffer.from(data).toString('latin1').replace(/\n/g, '\r\n'), 'latin1'));
  }
  return data; // b64: the decoded bytes do not depend on line breaks in the base64 text
}

// --- (b) and conventions: the source tree --------------------------------------------------------

const PROLOG =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd">\n';
const SYNCML_NS = 'SYNCML:SYNCML1.2';
const METINF_NS = 'syncml:metinf';

/** The tree with every b64 Item Data spelled as canonical base64 (what our encoders write). */
function canonicalBase64(tree: XmlElement): XmlElement {
  return mapTree(tree, (el, ancestors) => {
    if (el.name !== 'Data' || ancestors.at(-1)?.name !== 'Item') return el;
    if (formatOf(ancestors.at(-1)!, ancestors.at(-2)) !== 'b64') return el;
    return { ...el, text: canonical(el.text) };
  });
}

function formatOf(item: XmlElement, command: XmlElement | undefined): string {
  const metaFormat = (el: XmlElement | undefined): string | undefined => {
    const meta = el === undefined ? undefined : childElement(el, 'Meta');
    return meta === undefined ? undefined : childElement(meta, 'Format')?.text;
  };
  return metaFormat(item) ?? metaFormat(command) ?? 'chr'; // Item Meta first, then the command's (digest §2.3)
}

function canonical(b64: string): string {
  return Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString('base64');
}

/** The first way the source breaks the corpus conventions, or undefined. */
function conventionProblem(root: XmlElement): string | undefined {
  if (root.name !== 'SyncML' || root.ns !== SYNCML_NS) return `root is {${root.ns}}${root.name}`;
  const hdr = childElement(root, 'SyncHdr');
  if (childElement(hdr ?? root, 'VerDTD')?.text !== '1.2') return 'VerDTD is not 1.2';
  const proto = childElement(hdr ?? root, 'VerProto')?.text;
  if (proto !== 'DM/1.2' && proto !== 'DM/1.3') return `VerProto is ${proto}`;
  const problems: string[] = [];
  const walk = (el: XmlElement, parent: XmlElement | undefined, command: XmlElement | undefined, path: string): void => {
    const here = `${path}/${el.name}`;
    const ns = parent?.name === 'Meta' ? METINF_NS : SYNCML_NS;
    if (el.ns !== ns) problems.push(`${here} is in {${el.ns}}, not {${ns}}`);
    if (el.children.length === 0 && el.text !== el.text.trim()) problems.push(`${here} has blanks at the ends of its text`);
    const b64 =
      el.name === 'NextNonce' ||
      (el.name === 'Data' && parent?.name === 'Cred') ||
      (el.name === 'Data' && parent?.name === 'Item' && formatOf(parent, command) === 'b64');
    if (b64 && el.text !== canonical(el.text)) problems.push(`${here} is not canonical base64`);
    const isCommand = parent?.name === 'SyncBody' || parent?.name === 'Atomic' || parent?.name === 'Sequence';
    for (const c of el.children) walk(c, el, isCommand ? el : command, here);
  };
  walk(root, undefined, undefined, '');
  return problems[0];
}
