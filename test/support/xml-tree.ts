// An element tree read with saxes, an XML parser independent of ours, so that a test can compare what
// libwbxml prints with what we print without trusting our own XML reader.
//
// What the tree keeps, and why:
// - element names as {namespace URI, local name}: `xmlns="syncml:metinf"` on each MetInf element, a
//   prefix bound higher up, or libwbxml's own placement all give the same tree (digest §2.1);
// - no attributes: SyncML has none besides namespace declarations, which only decide the URI;
// - text = character data and CDATA sections joined (CDATA is only a way of writing text; libwbxml
//   prints OPAQUE as CDATA); line ends are normalised by the parser (XML 1.0 §2.11);
// - whitespace-only text is dropped in an element that has child elements (indentation), but a leaf
//   keeps its text exactly: `<Data> </Data>` is a one-space value, not `<Data/>`.
import { SaxesParser } from 'saxes';

export interface XmlElement {
  readonly name: string; // local name
  readonly ns: string; // namespace URI in scope, '' for none
  readonly children: readonly XmlElement[];
  readonly text: string;
}

interface Building {
  readonly name: string;
  readonly ns: string;
  readonly children: XmlElement[];
  text: string;
}

/** Parses a whole XML document (declaration and DOCTYPE allowed) into its element tree; throws when not well-formed. */
export function xmlTree(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const open: Building[] = [];
  let root: XmlElement | undefined;
  const addText = (text: string): void => {
    const top = open[open.length - 1];
    if (top !== undefined) top.text += text; // text outside the root is whitespace, or saxes refuses it
  };
  parser.on('opentag', (tag) => {
    open.push({ name: tag.local, ns: tag.uri, children: [], text: '' });
  });
  parser.on('closetag', () => {
    const done = open.pop()!;
    const text = done.children.length > 0 && done.text.trim() === '' ? '' : done.text;
    const element: XmlElement = { name: done.name, ns: done.ns, children: done.children, text };
    const parent = open[open.length - 1];
    if (parent === undefined) root = element;
    else parent.children.push(element);
  });
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.write(xml).close(); // with no 'error' handler saxes throws on the first error
  if (root === undefined) throw new Error('no root element');
  return root;
}

/**
 * Where two trees first differ, as a path with 1-based positions among same-named siblings
 * (`/SyncML/SyncBody/Status[2]/Data: text "200" vs "404"`), or undefined when they are equal.
 */
export function firstDifference(a: XmlElement, b: XmlElement): string | undefined {
  return differ(a, b, `/${label(a)}`);
}

function differ(a: XmlElement, b: XmlElement, path: string): string | undefined {
  if (a.name !== b.name || a.ns !== b.ns) return `${path}: element {${a.ns}}${a.name} vs {${b.ns}}${b.name}`;
  if (a.text !== b.text) return `${path}: text ${quote(a.text)} vs ${quote(b.text)}`;
  const n = Math.min(a.children.length, b.children.length);
  for (let i = 0; i < n; i++) {
    const ca = a.children[i]!;
    const d = differ(ca, b.children[i]!, `${path}/${step(a.children, i)}`);
    if (d !== undefined) return d;
  }
  if (a.children.length !== b.children.length) {
    const longer = a.children.length > b.children.length ? a.children : b.children;
    const side = longer === a.children ? 'only in the first tree' : 'only in the second tree';
    return `${path}/${step(longer, n)}: ${side} (${a.children.length} vs ${b.children.length} children)`;
  }
  return undefined;
}

function step(siblings: readonly XmlElement[], i: number): string {
  const el = siblings[i]!;
  let same = 0;
  let position = 0;
  for (let j = 0; j < siblings.length; j++) {
    const s = siblings[j]!;
    if (s.name !== el.name || s.ns !== el.ns) continue;
    same++;
    if (j <= i) position = same;
  }
  return same > 1 ? `${label(el)}[${position}]` : label(el);
}

function label(el: XmlElement): string {
  return el.ns === '' || el.ns.toUpperCase().startsWith('SYNCML:SYNCML') ? el.name : `{${el.ns}}${el.name}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/** The first child element with this local name, if any. */
export function childElement(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

/** A copy of the tree with `rewrite` applied to every element, children first. */
export function mapTree(
  el: XmlElement,
  rewrite: (el: XmlElement, ancestors: readonly XmlElement[]) => XmlElement,
  ancestors: readonly XmlElement[] = [],
): XmlElement {
  const inner = [...ancestors, el];
  const children = el.children.map((c) => mapTree(c, rewrite, inner));
  return rewrite({ ...el, children }, ancestors);
}
