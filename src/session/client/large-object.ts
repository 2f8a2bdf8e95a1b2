// Receiving a large object in chunks (digest §3.6): buffer until the last chunk, then check Size.
import { isBinaryFormat, type ItemData } from '../../protocol/index.ts';

export class IncomingObject {
  readonly uri: string;
  readonly kind: 'Add' | 'Replace';
  readonly format: string;
  readonly type: string | undefined;
  readonly size: number | undefined;
  private readonly parts: ItemData[] = [];
  private received = 0;

  constructor(kind: 'Add' | 'Replace', uri: string, format: string, type: string | undefined, size: number | undefined) {
    this.kind = kind;
    this.uri = uri;
    this.format = format;
    this.type = type;
    this.size = size;
  }

  add(part: ItemData | undefined): void {
    if (part === undefined) return;
    this.parts.push(part);
    this.received += typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.length;
  }

  get bytesSoFar(): number {
    return this.received;
  }

  whole(): ItemData {
    if (!isBinaryFormat(this.format) && this.parts.every((p) => typeof p === 'string')) return this.parts.join('');
    return new Uint8Array(Buffer.concat(this.parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))));
  }

  /**
   * Size counts bytes as transported; for b64 that is the base64 text. Our model holds decoded
   * bytes, so both readings are accepted (peers differ).
   */
  sizeMatches(): boolean {
    if (this.size === undefined) return true;
    if (this.received === this.size) return true;
    return this.format === 'b64' && Math.ceil(this.received / 3) * 4 === this.size;
  }
}
