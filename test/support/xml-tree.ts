// An element tree built with an independent parser (saxes), to compare what libwbxml writes with
// what we write without trusting our own XML reader.
import { SaxesParser } from 'saxes';

export interface XmlNode {
  readonly name: string;
  readonly ns: string;
  readonly children: XmlNode[];
  text: string;
}

/** Whitespace-only text is dropped (indentation); CDATA is text; CRLF is LF. */
export function xmlTree(xml: string): XmlNode {
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  const addText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += t.replace(/\r\n?/g, '\n');
  };
  parser.on('opentag', (tag) => {
    const node: XmlNode = { name: tag.local ?? tag.name, ns: tag.uri ?? '', children: [], text: '' };
    stack[stack.length - 1]?.children.push(node);
    stack.push(node);
    root ??= node;
  });
  parser.on('closetag', () => {
    const node = stack.pop()!;
    if (node.text.trim() === '' && node.children.length > 0) node.text = '';
  });
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('error', (e) => {
    throw e;
  });
  parser.write(xml).close();
  if (!root) throw new Error('no root element');
  return root;
}

/** The path of the first difference, or undefined when the trees are equal. */
export function firstDifference(a: XmlNode, b: XmlNode, path = ''): string | undefined {
  const here = `${path}/${a.name}`;
  if (a.name !== b.name || a.ns !== b.ns) return `${here}: element {${a.ns}}${a.name} vs {${b.ns}}${b.name}`;
  if (a.text !== b.text) return `${here}: text ${JSON.stringify(a.text.slice(0, 80))} vs ${JSON.stringify(b.text.slice(0, 80))}`;
  if (a.children.length !== b.children.length) {
    return `${here}: ${a.children.length} vs ${b.children.length} children (${a.children.map((c) => c.name).join(',')} | ${b.children.map((c) => c.name).join(',')})`;
  }
  for (let i = 0; i < a.children.length; i++) {
    const d = firstDifference(a.children[i]!, b.children[i]!, here);
    if (d) return d;
  }
  return undefined;
}
