// SyncML structure, read once for both encodings: recursive descent over a TokenReader.
// Children are accepted in any order (peers differ: SyncMLRTK writes Alert's Correlator before
// Data); the encoders always write DTD order.
import { MessageError, MessageErrorCode } from '../errors.ts';
import { effectiveFormat, Format } from '../model.ts';
import type { Chal, Command, Cred, Item, ItemData, LocRef, Message, Meta, Status, SyncHdr } from '../model.ts';
import { type DecodeWarning, DecodeWarningCode } from './options.ts';
import { base64Decode, isBlank, utf8Decode, utf8Encode } from './data.ts';
import { Tag, tagNames } from './tags.ts';
import { Tok, type TokenReader } from './tokens.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type RawItem = Mutable<Item> & { raw?: string | Uint8Array };

interface Ctx {
  readonly r: TokenReader;
  readonly warn: ((w: DecodeWarning) => void) | undefined;
}

const END = Tok.End;

export function readMessage(r: TokenReader, warn?: (w: DecodeWarning) => void): Message {
  const c: Ctx = { r, warn };
  const root = child(c, 'the document');
  if (root !== Tag.SyncML) {
    throw new MessageError(MessageErrorCode.UnexpectedElement, r.offset, `root element is ${nameOf(c, root)}, not SyncML`);
  }
  let hdr: SyncHdr | undefined;
  let body: { commands: Command[]; final: boolean } | undefined;
  for (let t = child(c, 'SyncML'); t !== END; t = child(c, 'SyncML')) {
    if (t === Tag.SyncHdr && hdr === undefined) hdr = readHdr(c);
    else if (t === Tag.SyncBody && body === undefined) body = readBody(c);
    else unexpected(c, t, 'SyncML');
  }
  if (hdr === undefined) missing(c, 'SyncHdr', 'SyncML');
  if (body === undefined) missing(c, 'SyncBody', 'SyncML');
  if (r.next() !== Tok.Eof) {
    throw new MessageError(MessageErrorCode.UnexpectedElement, r.offset, 'content after the SyncML element');
  }
  return { hdr, body };
}

function readHdr(c: Ctx): SyncHdr {
  let verDtd, verProto, sessionId, msgId, target, source, respUri, noResp, cred, meta;
  for (let t = child(c, 'SyncHdr'); t !== END; t = child(c, 'SyncHdr')) {
    switch (t) {
      case Tag.VerDTD:
        verDtd = text(c);
        break;
      case Tag.VerProto:
        verProto = text(c);
        break;
      case Tag.SessionID:
        sessionId = text(c);
        break;
      case Tag.MsgID:
        msgId = int(c, 'MsgID');
        break;
      case Tag.Target:
        target = readLoc(c, 'Target');
        break;
      case Tag.Source:
        source = readLoc(c, 'Source');
        break;
      case Tag.RespURI:
        respUri = text(c);
        break;
      case Tag.NoResp:
        noResp = flag(c);
        break;
      case Tag.Cred:
        cred = readCred(c);
        break;
      case Tag.Meta:
        meta = readMeta(c);
        break;
      case Tag.NoResults:
        skipWithWarning(c, 'NoResults');
        break;
      default:
        unexpected(c, t, 'SyncHdr');
    }
  }
  if (verDtd === undefined) missing(c, 'VerDTD', 'SyncHdr');
  if (verProto === undefined) missing(c, 'VerProto', 'SyncHdr');
  if (sessionId === undefined) missing(c, 'SessionID', 'SyncHdr');
  if (msgId === undefined) missing(c, 'MsgID', 'SyncHdr');
  if (target === undefined) missing(c, 'Target', 'SyncHdr');
  if (source === undefined) missing(c, 'Source', 'SyncHdr');
  const hdr: Mutable<SyncHdr> = { verDtd, verProto, sessionId, msgId, target, source };
  if (respUri !== undefined) hdr.respUri = respUri;
  if (noResp !== undefined) hdr.noResp = noResp;
  if (cred !== undefined) hdr.cred = cred;
  if (meta !== undefined) hdr.meta = meta;
  return hdr;
}

function readBody(c: Ctx): { commands: Command[]; final: boolean } {
  const commands: Command[] = [];
  let final = false;
  for (let t = child(c, 'SyncBody'); t !== END; t = child(c, 'SyncBody')) {
    if (t === Tag.Final) final = flag(c);
    // the SyncHdr Status comes first (DM RepPro §6.1.8): a Status there without CmdRef answers the header
    else if (t === Tag.Status && commands.length === 0) commands.push(readStatus(c, true));
    else commands.push(readCommand(c, t, 'SyncBody'));
  }
  return { commands, final };
}

function readCommand(c: Ctx, t: number, parent: string): Command {
  switch (t) {
    case Tag.Add:
    case Tag.Replace:
    case Tag.Delete:
    case Tag.Copy:
    case Tag.Get:
    case Tag.Exec:
      return readItemCommand(c, t);
    case Tag.Alert:
      return readAlert(c);
    case Tag.Atomic:
    case Tag.Sequence:
      return readContainer(c, t);
    case Tag.Results:
      return readResults(c);
    case Tag.Status:
      return readStatus(c, false);
    case Tag.Sync:
    case Tag.Map:
    case Tag.Put:
    case Tag.Search:
    case Tag.Move:
      return readUnsupported(c, t);
    default:
      return unexpected(c, t, parent);
  }
}

function readItemCommand(c: Ctx, t: number): Command {
  const name = tagNames[t] ?? '';
  const start = c.r.offset;
  let cmdId, noResp, meta, lang, correlator;
  const items: RawItem[] = [];
  for (let u = child(c, name); u !== END; u = child(c, name)) {
    switch (u) {
      case Tag.CmdID:
        cmdId = int(c, 'CmdID');
        break;
      case Tag.NoResp:
        noResp = flag(c);
        break;
      case Tag.Meta:
        meta = readMeta(c);
        break;
      case Tag.Item:
        items.push(readItem(c));
        break;
      case Tag.Lang:
        if (t !== Tag.Get) unexpected(c, u, name);
        lang = text(c);
        break;
      case Tag.Correlator:
        if (t !== Tag.Exec) unexpected(c, u, name);
        correlator = text(c);
        break;
      // DM 1.2: Cred only in SyncHdr; Archive/SftDel are DS-only
      case Tag.Cred:
      case Tag.Archive:
      case Tag.SftDel:
        skipWithWarning(c, tagNames[u] ?? '');
        break;
      default:
        unexpected(c, u, name);
    }
  }
  if (cmdId === undefined) missing(c, 'CmdID', name);
  if (items.length === 0) missing(c, 'Item', name);
  finishItems(items, meta, start);
  if (t === Tag.Exec) {
    if (items.length !== 1) {
      throw new MessageError(MessageErrorCode.BadValue, start, `Exec carries exactly one Item, got ${items.length}`);
    }
    const exec: Mutable<Extract<Command, { kind: 'Exec' }>> = { kind: 'Exec', cmdId, item: items[0] as Item };
    if (noResp !== undefined) exec.noResp = noResp;
    if (meta !== undefined) exec.meta = meta;
    if (correlator !== undefined) exec.correlator = correlator;
    return exec;
  }
  const cmd = { kind: name, cmdId, items } as Mutable<Extract<Command, { kind: 'Get' }>>;
  if (noResp !== undefined) cmd.noResp = noResp;
  if (meta !== undefined) cmd.meta = meta;
  if (lang !== undefined) cmd.lang = lang;
  return cmd;
}

function readAlert(c: Ctx): Command {
  const start = c.r.offset;
  let cmdId, noResp, data, correlator;
  const items: RawItem[] = [];
  for (let u = child(c, 'Alert'); u !== END; u = child(c, 'Alert')) {
    switch (u) {
      case Tag.CmdID:
        cmdId = int(c, 'CmdID');
        break;
      case Tag.NoResp:
        noResp = flag(c);
        break;
      case Tag.Data:
        data = int(c, 'Alert Data');
        break;
      case Tag.Correlator:
        correlator = text(c);
        break;
      case Tag.Item:
        items.push(readItem(c));
        break;
      case Tag.Cred:
        skipWithWarning(c, 'Cred');
        break;
      default:
        unexpected(c, u, 'Alert');
    }
  }
  if (cmdId === undefined) missing(c, 'CmdID', 'Alert');
  finishItems(items, undefined, start);
  const alert: Mutable<Extract<Command, { kind: 'Alert' }>> = { kind: 'Alert', cmdId, items };
  if (noResp !== undefined) alert.noResp = noResp;
  if (data !== undefined) alert.data = data;
  if (correlator !== undefined) alert.correlator = correlator;
  return alert;
}

function readContainer(c: Ctx, t: number): Command {
  const name = t === Tag.Atomic ? 'Atomic' : 'Sequence';
  let cmdId, noResp, meta;
  const commands: Command[] = [];
  for (let u = child(c, name); u !== END; u = child(c, name)) {
    switch (u) {
      case Tag.CmdID:
        cmdId = int(c, 'CmdID');
        break;
      case Tag.NoResp:
        noResp = flag(c);
        break;
      case Tag.Meta:
        meta = readMeta(c);
        break;
      default:
        commands.push(readCommand(c, u, name));
    }
  }
  if (cmdId === undefined) missing(c, 'CmdID', name);
  const cmd = { kind: name, cmdId, commands } as Mutable<Extract<Command, { kind: 'Atomic' }>>;
  if (noResp !== undefined) cmd.noResp = noResp;
  if (meta !== undefined) cmd.meta = meta;
  return cmd;
}

function readResults(c: Ctx): Command {
  const start = c.r.offset;
  let cmdId, msgRef, cmdRef, meta, targetRef, sourceRef;
  const items: RawItem[] = [];
  for (let u = child(c, 'Results'); u !== END; u = child(c, 'Results')) {
    switch (u) {
      case Tag.CmdID:
        cmdId = int(c, 'CmdID');
        break;
      case Tag.MsgRef:
        msgRef = int(c, 'MsgRef');
        break;
      case Tag.CmdRef:
        cmdRef = int(c, 'CmdRef');
        break;
      case Tag.Meta:
        meta = readMeta(c);
        break;
      case Tag.TargetRef:
        targetRef = text(c);
        break;
      case Tag.SourceRef:
        sourceRef = text(c);
        break;
      case Tag.Item:
        items.push(readItem(c));
        break;
      default:
        unexpected(c, u, 'Results');
    }
  }
  if (cmdId === undefined) missing(c, 'CmdID', 'Results');
  if (cmdRef === undefined) missing(c, 'CmdRef', 'Results');
  finishItems(items, meta, start);
  const res: Mutable<Extract<Command, { kind: 'Results' }>> = { kind: 'Results', cmdId, cmdRef, items };
  if (msgRef !== undefined) res.msgRef = msgRef;
  if (meta !== undefined) res.meta = meta;
  if (targetRef !== undefined) res.targetRef = targetRef;
  if (sourceRef !== undefined) res.sourceRef = sourceRef;
  return res;
}

function readStatus(c: Ctx, first: boolean): Status {
  const start = c.r.offset;
  let cmdId, msgRef, cmdRef, cmd, cred, chal, code;
  const targetRefs: string[] = [];
  const sourceRefs: string[] = [];
  const items: RawItem[] = [];
  for (let u = child(c, 'Status'); u !== END; u = child(c, 'Status')) {
    switch (u) {
      case Tag.CmdID:
        cmdId = int(c, 'CmdID');
        break;
      case Tag.MsgRef:
        msgRef = int(c, 'MsgRef');
        break;
      case Tag.CmdRef:
        cmdRef = int(c, 'CmdRef');
        break;
      case Tag.Cmd:
        cmd = text(c);
        break;
      case Tag.TargetRef:
        targetRefs.push(text(c));
        break;
      case Tag.SourceRef:
        sourceRefs.push(text(c));
        break;
      case Tag.Cred:
        cred = readCred(c);
        break;
      case Tag.Chal:
        chal = readChal(c);
        break;
      case Tag.Data:
        code = int(c, 'Status Data');
        break;
      case Tag.Item:
        items.push(readItem(c));
        break;
      default:
        unexpected(c, u, 'Status');
    }
  }
  if (cmdId === undefined) missing(c, 'CmdID', 'Status');
  if (msgRef === undefined) missing(c, 'MsgRef', 'Status');
  if (cmdRef === undefined) {
    // some clients leave CmdRef out (docs/interop.md): the header's Status is known by Cmd or by
    // coming first; a command's is left to the session to match by Cmd and TargetRef
    if (cmd === 'SyncHdr' || (first && cmd === undefined)) {
      cmdRef = 0;
      cmd = 'SyncHdr';
    }
    c.warn?.({ code: DecodeWarningCode.StatusNoCmdRef, offset: start, message: `Status for ${cmd ?? 'an unnamed command'} has no CmdRef` });
  }
  if (cmd === undefined) missing(c, 'Cmd', 'Status');
  if (code === undefined) missing(c, 'Data', 'Status');
  finishItems(items, undefined, start);
  const status: Mutable<Status> = { kind: 'Status', cmdId, msgRef, cmd, targetRefs, sourceRefs, code, items };
  if (cmdRef !== undefined) status.cmdRef = cmdRef;
  if (cred !== undefined) status.cred = cred;
  if (chal !== undefined) status.chal = chal;
  return status;
}

function readUnsupported(c: Ctx, t: number): Command {
  const name = tagNames[t] ?? '';
  let cmdId = 0;
  for (let u = child(c, name); u !== END; u = child(c, name)) {
    if (u === Tag.CmdID) cmdId = int(c, 'CmdID');
    else skip(c);
  }
  return { kind: 'Unsupported', name, cmdId };
}

function readItem(c: Ctx): RawItem {
  const item: RawItem = {};
  for (let t = child(c, 'Item'); t !== END; t = child(c, 'Item')) {
    switch (t) {
      case Tag.Target:
        item.target = readLoc(c, 'Target');
        break;
      case Tag.Source:
        item.source = readLoc(c, 'Source');
        break;
      case Tag.SourceParent:
        item.sourceParent = readLoc(c, 'SourceParent').locUri;
        break;
      case Tag.TargetParent:
        item.targetParent = readLoc(c, 'TargetParent').locUri;
        break;
      case Tag.Meta:
        item.meta = readMeta(c);
        break;
      case Tag.Data:
        item.raw = raw(c);
        break;
      case Tag.MoreData:
        item.moreData = flag(c);
        break;
      default:
        unexpected(c, t, 'Item');
    }
  }
  return item;
}

/** Turns raw Data into the model's text or bytes, by the item's effective Format. */
function finishItems(items: RawItem[], commandMeta: Meta | undefined, offset: number): void {
  for (const item of items) {
    const raw = item.raw;
    if (raw === undefined) continue;
    delete item.raw;
    item.data = toItemData(raw, effectiveFormat(item, commandMeta), offset);
  }
}

function toItemData(raw: string | Uint8Array, format: string, offset: number): ItemData {
  if (format === Format.Bin) return typeof raw === 'string' ? utf8Encode(raw) : raw;
  if (format === Format.B64) return base64Decode(typeof raw === 'string' ? raw : utf8Decode(raw), offset);
  return typeof raw === 'string' ? raw : utf8Decode(raw);
}

function readLoc(c: Ctx, name: string): LocRef {
  let locUri, locName;
  for (let t = child(c, name); t !== END; t = child(c, name)) {
    if (t === Tag.LocURI) locUri = text(c);
    else if (t === Tag.LocName) locName = text(c);
    else if (t === Tag.Filter) skipWithWarning(c, 'Filter');
    else unexpected(c, t, name);
  }
  if (locUri === undefined) missing(c, 'LocURI', name);
  return locName === undefined ? { locUri } : { locUri, locName };
}

function readCred(c: Ctx): Cred {
  let meta, data;
  for (let t = child(c, 'Cred'); t !== END; t = child(c, 'Cred')) {
    if (t === Tag.Meta) meta = readMeta(c);
    else if (t === Tag.Data) data = text(c);
    else unexpected(c, t, 'Cred');
  }
  if (data === undefined) missing(c, 'Data', 'Cred');
  return meta === undefined ? { data } : { meta, data };
}

function readChal(c: Ctx): Chal {
  let meta;
  for (let t = child(c, 'Chal'); t !== END; t = child(c, 'Chal')) {
    if (t === Tag.Meta) meta = readMeta(c);
    else unexpected(c, t, 'Chal');
  }
  if (meta === undefined) missing(c, 'Meta', 'Chal');
  return { meta };
}

function readMeta(c: Ctx, meta: Mutable<Meta> = {}): Meta {
  let mime: string | undefined;
  for (let t = child(c, 'Meta'); t !== END; t = child(c, 'Meta')) {
    switch (t) {
      case Tag.Format: {
        const offset = c.r.offset;
        const value = text(c);
        meta.format = normalFormat(c, value, offset);
        if (meta.format !== value && value.includes('/')) mime = value;
        break;
      }
      case Tag.Type:
        meta.type = text(c);
        break;
      case Tag.Mark:
        meta.mark = text(c);
        break;
      case Tag.Size:
        meta.size = int(c, 'Size');
        break;
      case Tag.Version:
        meta.version = text(c);
        break;
      case Tag.NextNonce:
        meta.nextNonce = text(c);
        break;
      case Tag.MaxMsgSize:
        meta.maxMsgSize = int(c, 'MaxMsgSize');
        break;
      case Tag.MaxObjSize:
        meta.maxObjSize = int(c, 'MaxObjSize');
        break;
      case Tag.EMI:
        meta.emi = [...(meta.emi ?? []), text(c)];
        break;
      case Tag.MetInf:
        readMeta(c, meta);
        break; // a MetInf wrapper: same fields
      case Tag.Anchor:
      case Tag.Mem:
      case Tag.FreeID:
      case Tag.FreeMem:
      case Tag.SharedMem:
      case Tag.FieldLevel:
      case Tag.Last:
      case Tag.Next:
        skipWithWarning(c, tagNames[t] ?? ''); // DS-only MetInf
        break;
      default:
        unexpected(c, t, 'Meta');
    }
  }
  // a MIME type where the Format goes: chr data of that Type (Type, in any order, wins if given)
  if (mime !== undefined && meta.type === undefined) meta.type = mime;
  return meta;
}

const FORMATS: ReadonlySet<string> = new Set(Object.values(Format));

/** Format as DM spells it: known values in lower case; a MIME type read as chr (docs/interop.md). */
function normalFormat(c: Ctx, value: string, offset: number): string {
  if (FORMATS.has(value)) return value;
  const lower = value.trim().toLowerCase();
  if (FORMATS.has(lower)) {
    c.warn?.({ code: DecodeWarningCode.FormatCase, offset, message: `Format ${JSON.stringify(value)} read as ${lower}` });
    return lower;
  }
  if (/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i.test(lower)) {
    c.warn?.({
      code: DecodeWarningCode.FormatMime,
      offset,
      message: `Format ${JSON.stringify(value)} is a MIME type: read as chr with that Type`,
    });
    return Format.Chr;
  }
  return value;
}

// --- token-level helpers -------------------------------------------------------------------

/** The next child element (or END), skipping whitespace between elements. */
function child(c: Ctx, parent: string): number {
  for (;;) {
    const t = c.r.next();
    if (t >= 0 || t === END) return t;
    if (t === Tok.Text && isBlank(c.r.text)) continue;
    if (t === Tok.Eof) {
      throw new MessageError(MessageErrorCode.MissingElement, c.r.offset, `document ended inside ${parent}`);
    }
    throw new MessageError(MessageErrorCode.UnexpectedText, c.r.offset, `text where ${parent} expects elements`);
  }
}

/** Text content of a leaf element, consumed up to its end. */
function text(c: Ctx): string {
  let out = '';
  for (;;) {
    const t = c.r.next();
    if (t === Tok.Text) out = out === '' ? c.r.text : out + c.r.text;
    else if (t === Tok.Opaque) out += utf8Decode(c.r.bytes);
    else if (t === END) return out;
    else leafOnly(c, t);
  }
}

/** Data content as it came: text, or bytes when any part was OPAQUE. */
function raw(c: Ctx): string | Uint8Array {
  let str = '';
  let bytes: Uint8Array | undefined;
  for (;;) {
    const t = c.r.next();
    if (t === Tok.Text) {
      if (bytes === undefined) str = str === '' ? c.r.text : str + c.r.text;
      else bytes = concat(bytes, utf8Encode(c.r.text));
    } else if (t === Tok.Opaque) {
      bytes = bytes === undefined ? (str === '' ? c.r.bytes : concat(utf8Encode(str), c.r.bytes)) : concat(bytes, c.r.bytes);
    } else if (t === END) {
      return bytes ?? str;
    } else {
      leafOnly(c, t);
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function leafOnly(c: Ctx, t: number): never {
  if (t === Tok.Eof) throw new MessageError(MessageErrorCode.MissingElement, c.r.offset, 'document ended inside a value');
  // Markup inside Data (inline DevInf/TNDS XML) is not supported: peers send it escaped or as OPAQUE
  throw new MessageError(MessageErrorCode.UnexpectedElement, c.r.offset, `element ${nameOf(c, t)} inside a text value`);
}

const DECIMAL = /^\s*\d{1,10}\s*$/;

function int(c: Ctx, what: string): number {
  const offset = c.r.offset;
  const s = text(c);
  const n = DECIMAL.test(s) ? Number(s) : NaN;
  if (!(n <= 0xffffffff)) {
    throw new MessageError(MessageErrorCode.BadValue, offset, `${what} is not a decimal integer: ${JSON.stringify(s.slice(0, 40))}`);
  }
  return n;
}

/** An empty marker element (Final, MoreData, NoResp); content other than blanks is refused. */
function flag(c: Ctx): true {
  const s = text(c);
  if (!isBlank(s)) throw new MessageError(MessageErrorCode.UnexpectedText, c.r.offset, 'text inside an empty element');
  return true;
}

function skip(c: Ctx): void {
  for (let depth = 1; depth > 0; ) {
    const t = c.r.next();
    if (t >= 0) depth++;
    else if (t === END) depth--;
    else if (t === Tok.Eof) leafOnly(c, t);
  }
}

function skipWithWarning(c: Ctx, name: string): void {
  const offset = c.r.offset;
  skip(c);
  c.warn?.({ code: DecodeWarningCode.SkippedElement, offset, message: `${name} is not used by OMA DM and was ignored` });
}

function nameOf(c: Ctx, t: number): string {
  return t === 0 ? c.r.name : (tagNames[t] ?? `token ${t}`);
}

function unexpected(c: Ctx, t: number, parent: string): never {
  const code = t === 0 ? MessageErrorCode.UnknownElement : MessageErrorCode.UnexpectedElement;
  throw new MessageError(code, c.r.offset, `${t === 0 ? 'unknown' : 'unexpected'} element ${nameOf(c, t)} in ${parent}`);
}

function missing(c: Ctx, name: string, parent: string): never {
  throw new MessageError(MessageErrorCode.MissingElement, c.r.offset, `${parent} has no ${name}`);
}
