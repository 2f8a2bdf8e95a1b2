// fast-check generators of valid DM messages: every command, Meta field and item shape the model
// has, with text that both encodings can carry (no C0 controls but tab, LF and CR).
import fc from 'fast-check';

import type { Command, Item, Meta, Message, Status } from '../../src/protocol/model.ts';

const specials = ['&', '<', '>', '"', "'", '\n', '\t', '\r', ' ', ']]>', '&amp;', '/', '?', '=', 'é', 'ß', '中', '😀', 'Ω'];
const char = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom(...specials) },
);
export const text = fc.string({ unit: char, maxLength: 24 });
const nonEmpty = fc.string({ unit: char, minLength: 1, maxLength: 24 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const small = fc.integer({ min: 1, max: 65535 });
const textFormat = fc.constantFrom('chr', 'int', 'bool', 'node', 'null', 'xml', 'date', 'time', 'float');

/** `bin` data must be UTF-8 text to travel in XML; `xmlSafeBin` keeps it so. */
function binBytes(xmlSafeBin: boolean): fc.Arbitrary<Uint8Array> {
  return xmlSafeBin
    ? fc
        .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 })
        .filter((s) => !s.includes(']]>'))
        .map((s) => new Uint8Array(Buffer.from(s, 'utf8')))
    : fc.uint8Array({ maxLength: 64 });
}

function opt<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined });
}

/** A plain object without the undefined fields (fast-check's records may have a null prototype). */
function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

export const meta: fc.Arbitrary<Meta> = fc
  .record({
    format: opt(fc.constantFrom('chr', 'int', 'b64', 'bin', 'node', 'bool')),
    type: opt(nonEmpty),
    mark: opt(fc.constantFrom('critical', 'warning', 'informational')),
    size: opt(u32),
    version: opt(nonEmpty),
    nextNonce: opt(fc.base64String({ minLength: 4, maxLength: 24 })),
    maxMsgSize: opt(u32),
    maxObjSize: opt(u32),
    emi: opt(fc.array(nonEmpty, { minLength: 1, maxLength: 2 })),
  })
  .map((m) => defined(m as Meta & Record<string, unknown>));

const locRef = fc.record({ locUri: text, locName: opt(text) }).map((l) => defined(l));

function item(commandFormat: string | undefined, xmlSafeBin: boolean): fc.Arbitrary<Item> {
  return fc
    .record({
      target: opt(locRef),
      source: opt(locRef),
      sourceParent: opt(text),
      targetParent: opt(text),
      format: opt(fc.oneof(textFormat, fc.constantFrom('b64', 'bin'))),
      type: opt(nonEmpty),
      moreData: opt(fc.constant(true as const)),
      hasData: fc.boolean(),
      textData: text,
      binData: binBytes(xmlSafeBin),
    })
    .map((r) => {
      const format = r.format ?? commandFormat ?? 'chr';
      const it: Record<string, unknown> = {
        target: r.target,
        source: r.source,
        sourceParent: r.sourceParent,
        targetParent: r.targetParent,
        moreData: r.moreData,
      };
      if (r.format !== undefined || r.type !== undefined) it['meta'] = defined({ format: r.format, type: r.type });
      if (r.hasData) it['data'] = format === 'b64' || format === 'bin' ? r.binData : r.textData;
      return defined(it) as Item;
    });
}

function itemCommand(kind: 'Add' | 'Replace' | 'Delete' | 'Copy' | 'Get', safe: boolean): fc.Arbitrary<Command> {
  return fc
    .record({
      cmdId: small,
      noResp: opt(fc.constant(true as const)),
      format: opt(fc.constantFrom('chr', 'b64', 'bin', 'node')),
      lang: opt(nonEmpty),
    })
    .chain((h) =>
      fc.array(item(h.format, safe), { minLength: 1, maxLength: 3 }).map((items) => {
        const cmd: Record<string, unknown> = { kind, cmdId: h.cmdId, noResp: h.noResp, items };
        if (h.format !== undefined) cmd['meta'] = { format: h.format };
        if (kind === 'Get') cmd['lang'] = h.lang;
        return defined(cmd) as unknown as Command;
      }),
    );
}

const status: fc.Arbitrary<Status> = fc
  .record({
    cmdId: small,
    msgRef: u32,
    cmdRef: u32,
    cmd: fc.constantFrom('SyncHdr', 'Alert', 'Get', 'Replace', 'Add', 'Exec', 'Atomic'),
    targetRefs: fc.array(text, { maxLength: 2 }),
    sourceRefs: fc.array(text, { maxLength: 2 }),
    cred: opt(fc.record({ meta: opt(meta), data: text }).map((c) => defined(c))),
    chal: opt(meta.map((m) => ({ meta: m }))),
    code: fc.integer({ min: 100, max: 599 }),
  })
  .chain((s) =>
    fc.array(item(undefined, true), { maxLength: 2 }).map((items) => defined({ kind: 'Status' as const, ...s, items }) as Status),
  );

function command(depth: number, safe: boolean): fc.Arbitrary<Command> {
  const leaves: fc.Arbitrary<Command>[] = [
    itemCommand('Add', safe),
    itemCommand('Replace', safe),
    itemCommand('Delete', safe),
    itemCommand('Copy', safe),
    itemCommand('Get', safe),
    status,
    fc
      .record({ cmdId: small, noResp: opt(fc.constant(true as const)), correlator: opt(text), it: item(undefined, safe) })
      .map((e) => defined({ kind: 'Exec' as const, cmdId: e.cmdId, noResp: e.noResp, correlator: e.correlator, item: e.it }) as Command),
    fc
      .record({
        cmdId: small,
        data: opt(fc.constantFrom(1100, 1101, 1200, 1201, 1222, 1223, 1224, 1226)),
        correlator: opt(text),
        items: fc.array(item(undefined, safe), { maxLength: 2 }),
      })
      .map((a) => defined({ kind: 'Alert' as const, ...a }) as Command),
    fc
      .record({
        cmdId: small,
        msgRef: opt(u32),
        cmdRef: u32,
        targetRef: opt(text),
        sourceRef: opt(text),
        items: fc.array(item(undefined, safe), { minLength: 1, maxLength: 3 }),
      })
      .map((r) => defined({ kind: 'Results' as const, ...r }) as Command),
  ];
  if (depth <= 0) return fc.oneof(...leaves);
  const container = fc
    .record({
      kind: fc.constantFrom('Atomic' as const, 'Sequence' as const),
      cmdId: small,
      noResp: opt(fc.constant(true as const)),
      commands: fc.array(command(depth - 1, safe), { minLength: 1, maxLength: 3 }),
    })
    .map((c) => defined(c) as Command);
  return fc.oneof({ weight: 5, arbitrary: fc.oneof(...leaves) }, { weight: 1, arbitrary: container });
}

/** A valid message; `xmlSafeBin` (default true) keeps Format bin data representable in XML. */
export function message(xmlSafeBin = true): fc.Arbitrary<Message> {
  return fc
    .record({
      verDtd: fc.constantFrom('1.2', '1.1'),
      verProto: fc.constantFrom('DM/1.2', 'DM/1.3'),
      sessionId: fc.oneof(
        fc.constant('1'),
        fc.integer({ min: 1, max: 0xffff }).map((n) => n.toString(16).toUpperCase()),
      ),
      msgId: fc.integer({ min: 1, max: 1000 }),
      target: locRef,
      source: locRef,
      respUri: opt(text),
      noResp: opt(fc.constant(true as const)),
      cred: opt(fc.record({ meta: opt(meta), data: text }).map((c) => defined(c))),
      meta: opt(meta),
      commands: fc.array(command(2, xmlSafeBin), { maxLength: 5 }),
      final: fc.boolean(),
    })
    .map(({ commands, final, ...hdr }) => ({ hdr: defined(hdr), body: { commands, final } }) as Message);
}
