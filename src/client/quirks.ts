// What deployed DM clients do that the spec does not ask for, reproduced by the simulated device so
// tests (and `gwmo fleet --quirks`) can prove the server and the gateway cope: docs/interop.md.
// Markup quirks rewrite each message after the session encoded it, so the session engine stays
// correct; an HMAC computed over the original body would no longer match (use basic or md5).
import type { Command, Message } from '../protocol/index.ts';
import { decodeMessage, encodeMessage, type Encoding, type WireMessage } from '../session/wire.ts';
import { type ClientQuirks, parseQuirks as parseSessionQuirks, SESSION_QUIRK_NAMES } from '../session/client/quirks.ts';
import type { DmHttpMessage } from '../transport/index.ts';

// --- lenient reading (docs/interop.md, "Lenient reading") ---------------------------------------
export const LENIENT_READING_QUIRKS = [
  'meta-type-first', // <Meta><Type/><Format/></Meta>
  'status-no-cmdref', // Status without CmdRef, the SyncHdr's too
  'targetref-after-data', // Item: Target/Source after Data; Results/Status: TargetRef/SourceRef last
  'duplicate-cmdids', // every command of a message has CmdID 1
  'format-case', // Format `Chr`, `Int`, `B64`…
  'format-mime', // Format `text/plain` where chr is meant
  'generic-content-type', // posts application/vnd.syncml+xml (+wbxml), no DOCTYPE
  'alert-with-status', // a Generic Alert raised by an Exec goes in the message with its Status
  'resend-to-respuri', // the next session's Alert 1201 goes to the last session's RespURI
] as const;

/** rewrites of the XML text: they cannot be said in the model (element order) */
const XML_ONLY: ReadonlySet<string> = new Set(['meta-type-first', 'targetref-after-data']);

export type ClientQuirk = (typeof LENIENT_READING_QUIRKS)[number];
export const CLIENT_QUIRKS: readonly ClientQuirk[] = [...LENIENT_READING_QUIRKS];

/**
 * `gwmo fleet --quirks a,b,replyBuffer=3`, checked: the markup and flow quirks here (kebab-case) and
 * the session behaviours of src/session/client/quirks.ts (camelCase), in one list.
 */
export function parseQuirks(list: string): { wire: ClientQuirk[]; session: ClientQuirks | undefined } {
  const names = list
    .split(',')
    .map((q) => q.trim())
    .filter((q) => q !== '');
  const wire = names.filter((q): q is ClientQuirk => (CLIENT_QUIRKS as readonly string[]).includes(q));
  const rest = names.filter((q) => !(CLIENT_QUIRKS as readonly string[]).includes(q));
  const unknown = rest.filter((q) => !(SESSION_QUIRK_NAMES as readonly string[]).includes(q.split('=')[0]!));
  if (unknown.length > 0)
    throw new Error(`unknown quirk ${unknown.join(', ')}; known: ${[...CLIENT_QUIRKS, ...SESSION_QUIRK_NAMES].join(', ')}`);
  return { wire, session: rest.length > 0 ? parseSessionQuirks(rest.join(',')) : undefined };
}

/** Refuses a set of quirks the encoding cannot carry. */
export function checkQuirks(quirks: readonly ClientQuirk[], encoding: Encoding): void {
  const bad = quirks.filter((q) => XML_ONLY.has(q));
  if (encoding === 'wbxml' && bad.length > 0) throw new Error(`quirk ${bad.join(', ')} needs the XML encoding`);
}

/** The message as the quirky device posts it. */
export function quirkyMessage(wire: WireMessage, quirks: ReadonlySet<ClientQuirk>): DmHttpMessage {
  let body = wire.body;
  if (quirks.has('status-no-cmdref') || quirks.has('duplicate-cmdids') || quirks.has('format-case') || quirks.has('format-mime')) {
    body = encodeMessage(rewriteModel(decodeMessage(body, wire.encoding), quirks), wire.encoding);
  }
  if (wire.encoding === 'xml' && (quirks.has('meta-type-first') || quirks.has('targetref-after-data'))) {
    body = new Uint8Array(Buffer.from(rewriteXml(Buffer.from(body).toString('utf8'), quirks), 'utf8'));
  }
  return {
    body,
    encoding: wire.encoding,
    ...(wire.hmac ? { hmac: wire.hmac } : {}),
    ...(quirks.has('generic-content-type') ? { contentType: `application/vnd.syncml+${wire.encoding}` } : {}),
  };
}

function rewriteModel(msg: Message, quirks: ReadonlySet<ClientQuirk>): Message {
  const commands = msg.body.commands.map((c): Command => {
    let out: Command = c;
    if (quirks.has('duplicate-cmdids')) out = { ...out, cmdId: 1 };
    if (out.kind === 'Status' && quirks.has('status-no-cmdref')) {
      const { cmdRef: _dropped, ...rest } = out;
      out = rest;
    }
    if (out.kind === 'Results' || out.kind === 'Alert' || out.kind === 'Replace') {
      // such a client writes a Format on every item with Data (chr included)
      out = {
        ...out,
        items: out.items.map((i) => {
          // bytes keep their Format: our writer would refuse bytes of Format `B64`
          const format = typeof i.data === 'string' ? (i.meta?.format ?? 'chr') : undefined;
          return format === undefined ? i : { ...i, meta: { ...i.meta, format: quirkyFormat(format, quirks) } };
        }),
      };
    }
    return out;
  });
  return { hdr: msg.hdr, body: { ...msg.body, commands } };
}

function quirkyFormat(format: string, quirks: ReadonlySet<ClientQuirk>): string {
  if (format === 'chr' && quirks.has('format-mime')) return 'text/plain';
  if (quirks.has('format-case')) return format.charAt(0).toUpperCase() + format.slice(1);
  return format;
}

const META_FORMAT_TYPE =
  /(<Format xmlns="syncml:metinf">[^<]*<\/Format>|<Format xmlns="syncml:metinf"\/>)(<Type xmlns="syncml:metinf">[^<]*<\/Type>)/g;
const ITEM_HEAD = /<Item>((?:<Target>[\s\S]*?<\/Target>)?(?:<Source>[\s\S]*?<\/Source>)?)([\s\S]*?)<\/Item>/g;
const REFS = /<(TargetRef|SourceRef)>[^<]*<\/\1>|<(TargetRef|SourceRef)\/>/g;

function rewriteXml(xml: string, quirks: ReadonlySet<ClientQuirk>): string {
  let out = xml;
  if (quirks.has('meta-type-first')) out = out.replace(META_FORMAT_TYPE, '$2$1');
  if (quirks.has('targetref-after-data')) {
    out = out.replace(ITEM_HEAD, (_all, head: string, rest: string) => `<Item>${rest}${head}</Item>`);
    out = out.replace(/<(Results|Status)>([\s\S]*?)<\/\1>/g, (_all, name: string, inner: string) => {
      const refs = inner.match(REFS) ?? [];
      return `<${name}>${inner.replace(REFS, '')}${refs.join('')}</${name}>`;
    });
  }
  return out;
}
