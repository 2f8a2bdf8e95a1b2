import { ContentType } from '../../protocol/index.ts';

export type Encoding = 'xml' | 'wbxml';

/** The DM encoding of a Content-Type, parameters stripped; DS types accepted too (some clients send them). */
export function encodingOf(contentType: string | undefined): Encoding | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === ContentType.DmXml || type === 'application/vnd.syncml+xml') return 'xml';
  if (type === ContentType.DmWbxml || type === 'application/vnd.syncml+wbxml') return 'wbxml';
  return undefined;
}

export function contentTypeOf(encoding: Encoding): string {
  return encoding === 'wbxml' ? ContentType.DmWbxml : ContentType.DmXml;
}
