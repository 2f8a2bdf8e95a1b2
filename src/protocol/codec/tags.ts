// Element ids shared by both encodings: the WBXML token on its code page, plus 0x100 per page.
// Code page 0 is SyncML, code page 1 MetInf (spec digest §7.3, §7.4). XML maps names onto the same
// ids, so one reader/builder serves both encodings.

export const METINF = 0x100;

export const Tag = {
  Add: 0x05,
  Alert: 0x06,
  Archive: 0x07,
  Atomic: 0x08,
  Chal: 0x09,
  Cmd: 0x0a,
  CmdID: 0x0b,
  CmdRef: 0x0c,
  Copy: 0x0d,
  Cred: 0x0e,
  Data: 0x0f,
  Delete: 0x10,
  Exec: 0x11,
  Final: 0x12,
  Get: 0x13,
  Item: 0x14,
  Lang: 0x15,
  LocName: 0x16,
  LocURI: 0x17,
  Map: 0x18,
  MapItem: 0x19,
  Meta: 0x1a,
  MsgID: 0x1b,
  MsgRef: 0x1c,
  NoResp: 0x1d,
  NoResults: 0x1e,
  Put: 0x1f,
  Replace: 0x20,
  RespURI: 0x21,
  Results: 0x22,
  Search: 0x23,
  Sequence: 0x24,
  SessionID: 0x25,
  SftDel: 0x26,
  Source: 0x27,
  SourceRef: 0x28,
  Status: 0x29,
  Sync: 0x2a,
  SyncBody: 0x2b,
  SyncHdr: 0x2c,
  SyncML: 0x2d,
  Target: 0x2e,
  TargetRef: 0x2f,
  VerDTD: 0x31,
  VerProto: 0x32,
  NumberOfChanges: 0x33,
  MoreData: 0x34,
  Field: 0x35,
  Filter: 0x36,
  Record: 0x37,
  FilterType: 0x38,
  SourceParent: 0x39,
  TargetParent: 0x3a,
  Move: 0x3b,
  Correlator: 0x3c,
  // MetInf
  Anchor: METINF | 0x05,
  EMI: METINF | 0x06,
  Format: METINF | 0x07,
  FreeID: METINF | 0x08,
  FreeMem: METINF | 0x09,
  Last: METINF | 0x0a,
  Mark: METINF | 0x0b,
  MaxMsgSize: METINF | 0x0c,
  Mem: METINF | 0x0d,
  MetInf: METINF | 0x0e,
  Next: METINF | 0x0f,
  NextNonce: METINF | 0x10,
  SharedMem: METINF | 0x11,
  Size: METINF | 0x12,
  Type: METINF | 0x13,
  Version: METINF | 0x14,
  MaxObjSize: METINF | 0x15,
  FieldLevel: METINF | 0x16,
} as const;
export type Tag = (typeof Tag)[keyof typeof Tag];

/** Element name by id (empty where no element has that id). */
export const tagNames: readonly string[] = (() => {
  const names: string[] = new Array<string>(METINF + 0x20).fill('');
  for (const [name, id] of Object.entries(Tag)) names[id] = name;
  return names;
})();

/** Element id by name; no name exists on both pages, so the local name is enough. */
export const tagByName: ReadonlyMap<string, number> = new Map(Object.entries(Tag));

export function isKnownTag(id: number): boolean {
  return id >= 0 && id < tagNames.length && tagNames[id] !== '';
}

export function pageOf(id: number): number {
  return id >> 8;
}
