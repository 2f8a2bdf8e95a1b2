// SyncML structure, written once for both encodings, always in DTD order (spec digest §2).
import { MessageError, MessageErrorCode } from '../errors.ts';
import { effectiveFormat, Format } from '../model.ts';
import type { Command, Cred, Item, LocRef, Message, Meta, Status } from '../model.ts';
import { base64Encode } from './data.ts';
import { Tag } from './tags.ts';
import type { TokenWriter } from './tokens.ts';

export function writeMessage(w: TokenWriter, msg: Message): void {
  const h = msg.hdr;
  w.start(Tag.SyncML);
  w.start(Tag.SyncHdr);
  leaf(w, Tag.VerDTD, h.verDtd);
  leaf(w, Tag.VerProto, h.verProto);
  leaf(w, Tag.SessionID, h.sessionId);
  leaf(w, Tag.MsgID, count(h.msgId, 'MsgID'));
  loc(w, Tag.Target, h.target);
  loc(w, Tag.Source, h.source);
  if (h.respUri !== undefined) leaf(w, Tag.RespURI, h.respUri);
  if (h.noResp === true) w.empty(Tag.NoResp);
  if (h.cred !== undefined) cred(w, h.cred);
  if (h.meta !== undefined) meta(w, h.meta);
  w.end();
  w.start(Tag.SyncBody);
  for (const cmd of msg.body.commands) command(w, cmd);
  if (msg.body.final) w.empty(Tag.Final);
  w.end();
  w.end();
}

function command(w: TokenWriter, cmd: Command): void {
  switch (cmd.kind) {
    case 'Add':
    case 'Replace':
    case 'Delete':
    case 'Copy':
    case 'Get':
      w.start(Tag[cmd.kind]);
      head(w, cmd.cmdId, cmd.noResp);
      if (cmd.kind === 'Get' && cmd.lang !== undefined) leaf(w, Tag.Lang, cmd.lang);
      if (cmd.meta !== undefined) meta(w, cmd.meta);
      if (cmd.items.length === 0) invalid(`${cmd.kind} ${cmd.cmdId} has no Item`);
      for (const it of cmd.items) item(w, it, cmd.meta);
      w.end();
      return;
    case 'Exec':
      w.start(Tag.Exec);
      head(w, cmd.cmdId, cmd.noResp);
      if (cmd.meta !== undefined) meta(w, cmd.meta);
      if (cmd.correlator !== undefined) leaf(w, Tag.Correlator, cmd.correlator);
      item(w, cmd.item, cmd.meta);
      w.end();
      return;
    case 'Alert':
      w.start(Tag.Alert);
      head(w, cmd.cmdId, cmd.noResp);
      if (cmd.data !== undefined) leaf(w, Tag.Data, count(cmd.data, 'Alert Data'));
      if (cmd.correlator !== undefined) leaf(w, Tag.Correlator, cmd.correlator);
      for (const it of cmd.items) item(w, it, undefined);
      w.end();
      return;
    case 'Atomic':
    case 'Sequence':
      w.start(Tag[cmd.kind]);
      head(w, cmd.cmdId, cmd.noResp);
      if (cmd.meta !== undefined) meta(w, cmd.meta);
      for (const inner of cmd.commands) command(w, inner);
      w.end();
      return;
    case 'Results':
      w.start(Tag.Results);
      leaf(w, Tag.CmdID, count(cmd.cmdId, 'CmdID'));
      if (cmd.msgRef !== undefined) leaf(w, Tag.MsgRef, count(cmd.msgRef, 'MsgRef'));
      leaf(w, Tag.CmdRef, count(cmd.cmdRef, 'CmdRef'));
      if (cmd.meta !== undefined) meta(w, cmd.meta);
      if (cmd.targetRef !== undefined) leaf(w, Tag.TargetRef, cmd.targetRef);
      if (cmd.sourceRef !== undefined) leaf(w, Tag.SourceRef, cmd.sourceRef);
      for (const it of cmd.items) item(w, it, cmd.meta);
      w.end();
      return;
    case 'Status':
      status(w, cmd);
      return;
    case 'Unsupported':
      return invalid(`${cmd.name} is not an OMA DM command and cannot be encoded`);
    default:
      return invalid(`unknown command kind ${JSON.stringify((cmd as { kind?: unknown }).kind)}`);
  }
}

function status(w: TokenWriter, s: Status): void {
  w.start(Tag.Status);
  leaf(w, Tag.CmdID, count(s.cmdId, 'CmdID'));
  leaf(w, Tag.MsgRef, count(s.msgRef, 'MsgRef'));
  // absent only in a message read leniently (or written by a quirky test device): written as it is
  if (s.cmdRef !== undefined) leaf(w, Tag.CmdRef, count(s.cmdRef, 'CmdRef'));
  leaf(w, Tag.Cmd, s.cmd);
  for (const ref of s.targetRefs) leaf(w, Tag.TargetRef, ref);
  for (const ref of s.sourceRefs) leaf(w, Tag.SourceRef, ref);
  if (s.cred !== undefined) cred(w, s.cred);
  if (s.chal !== undefined) {
    w.start(Tag.Chal);
    meta(w, s.chal.meta);
    w.end();
  }
  leaf(w, Tag.Data, count(s.code, 'Status code'));
  for (const it of s.items) item(w, it, undefined);
  w.end();
}

function head(w: TokenWriter, cmdId: number, noResp: boolean | undefined): void {
  leaf(w, Tag.CmdID, count(cmdId, 'CmdID'));
  if (noResp === true) w.empty(Tag.NoResp);
}

function item(w: TokenWriter, it: Item, commandMeta: Meta | undefined): void {
  w.start(Tag.Item);
  if (it.target !== undefined) loc(w, Tag.Target, it.target);
  if (it.source !== undefined) loc(w, Tag.Source, it.source);
  if (it.sourceParent !== undefined) loc(w, Tag.SourceParent, { locUri: it.sourceParent });
  if (it.targetParent !== undefined) loc(w, Tag.TargetParent, { locUri: it.targetParent });
  if (it.meta !== undefined) meta(w, it.meta);
  if (it.data !== undefined) data(w, it, effectiveFormat(it, commandMeta));
  if (it.moreData === true) w.empty(Tag.MoreData);
  w.end();
}

function data(w: TokenWriter, it: Item, format: string): void {
  const d = it.data;
  if (typeof d === 'string') {
    if (format === Format.Bin || format === Format.B64) invalid(`Data of Format ${format} must be bytes`);
    if (d === '') w.empty(Tag.Data);
    else {
      w.start(Tag.Data);
      w.dataText(d);
      w.end();
    }
    return;
  }
  if (!(d instanceof Uint8Array)) return invalid('Data must be a string or a Uint8Array');
  if (format !== Format.Bin && format !== Format.B64) invalid(`bytes given as Data of Format ${format}`);
  if (d.length === 0) return w.empty(Tag.Data);
  w.start(Tag.Data);
  if (format === Format.B64) w.text(base64Encode(d));
  else w.opaque(d);
  w.end();
}

function meta(w: TokenWriter, m: Meta): void {
  w.start(Tag.Meta);
  // MetInf order of the AOSP encoder: Format, Type, Mark, Size, Version, NextNonce, MaxMsgSize, MaxObjSize, EMI*
  if (m.format !== undefined) leaf(w, Tag.Format, m.format);
  if (m.type !== undefined) leaf(w, Tag.Type, m.type);
  if (m.mark !== undefined) leaf(w, Tag.Mark, m.mark);
  if (m.size !== undefined) leaf(w, Tag.Size, count(m.size, 'Size'));
  if (m.version !== undefined) leaf(w, Tag.Version, m.version);
  if (m.nextNonce !== undefined) leaf(w, Tag.NextNonce, m.nextNonce);
  if (m.maxMsgSize !== undefined) leaf(w, Tag.MaxMsgSize, count(m.maxMsgSize, 'MaxMsgSize'));
  if (m.maxObjSize !== undefined) leaf(w, Tag.MaxObjSize, count(m.maxObjSize, 'MaxObjSize'));
  if (m.emi !== undefined) for (const e of m.emi) leaf(w, Tag.EMI, e);
  w.end();
}

function cred(w: TokenWriter, c: Cred): void {
  w.start(Tag.Cred);
  if (c.meta !== undefined) meta(w, c.meta);
  leaf(w, Tag.Data, c.data);
  w.end();
}

function loc(w: TokenWriter, tag: number, ref: LocRef): void {
  w.start(tag);
  leaf(w, Tag.LocURI, ref.locUri);
  if (ref.locName !== undefined) leaf(w, Tag.LocName, ref.locName);
  w.end();
}

function leaf(w: TokenWriter, tag: number, value: string): void {
  if (typeof value !== 'string') invalid(`a text value is ${typeof value}`);
  if (value === '') {
    w.empty(tag);
    return;
  }
  w.start(tag);
  w.text(value);
  w.end();
}

function count(n: number, what: string): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) invalid(`${what} must be an unsigned 32-bit integer, got ${n}`);
  return String(n);
}

function invalid(detail: string): never {
  throw new MessageError(MessageErrorCode.InvalidModel, -1, detail);
}
