// ./GwMO/Images: the Image Inventory MO (urn:oma:mo:oma-gwmo-imageinventory:1.0). The server adds an
// entry, writes where to fetch it and what it must hash to, Execs Operations/Download (202) and
// reads State, BytesReceived and LocalURL; the imageready alert reports the end.
import type { GatewayStore, ImageRow } from '../../store/gateway.ts';
import { ImageState } from '../../store/gateway.ts';
import type { ImageStore } from '../images.ts';
import { dir, leaf, type Node, text, type Write } from './shape.ts';

export const IMAGES_URN = 'urn:oma:mo:oma-gwmo-imageinventory:1.0';
const NAME = /^[A-Za-z0-9\-_.!~*'():@&=+$,%]+$/;

function entryShape(name: string, store: GatewayStore, images: ImageStore): Node {
  const row = (): ImageRow => store.getImage(name)!;
  // a download a crash left "downloading" runs nowhere: its entry can be staged again
  const editable = (): boolean => row().state !== ImageState.Downloading || !images.running(name);
  const set =
    (patch: (w: Write) => Partial<ImageRow> | number) =>
    (w: Write): number => {
      if (!editable()) return 405;
      const p = patch(w);
      if (typeof p === 'number') return p;
      store.putImage({ ...row(), ...p });
      return 200;
    };
  const textField = (key: 'imageId' | 'version' | 'contentType' | 'downloadUrl') => set((w) => ({ [key]: text(w) }));
  const fields: [string, Node][] = [
    ['ImageID', leaf('chr', () => row().imageId, textField('imageId'))],
    ['Name', leaf('chr', () => name)],
    ['Version', leaf('chr', () => row().version, textField('version'))],
    ['ContentType', leaf('chr', () => row().contentType, textField('contentType'))],
    [
      'Size',
      leaf(
        'int',
        () => (row().size !== undefined ? String(row().size) : ''),
        set((w) => {
          const n = Number(text(w));
          return Number.isSafeInteger(n) && n >= 0 ? { size: n } : 400;
        }),
      ),
    ],
    [
      'Hash',
      leaf(
        'chr',
        () => (row().hash ? `sha256:${row().hash}` : ''),
        set((w) => {
          const h = text(w)
            .trim()
            .toLowerCase()
            .replace(/^sha256:/, '');
          return /^[0-9a-f]{64}$/.test(h) ? { hash: h } : 400;
        }),
      ),
    ],
    [
      'DownloadURL',
      leaf(
        'chr',
        () => row().downloadUrl ?? '',
        set((w) => {
          try {
            const u = new URL(text(w));
            return u.protocol === 'http:' || u.protocol === 'https:' ? { downloadUrl: u.href } : 400;
          } catch {
            return 400;
          }
        }),
      ),
    ],
  ];
  return dir(
    () => [
      ...fields,
      [
        'Operations',
        dir(() => [
          ['Download', { kind: 'exec', exec: ({ correlator }) => images.download(name, correlator) }],
          ['Remove', { kind: 'exec', exec: () => images.remove(name) }],
          ['Cancel', { kind: 'exec', exec: () => images.cancel(name) }],
        ]),
      ],
      ['State', leaf('int', () => String(row().state))],
      ['BytesReceived', leaf('int', () => String(row().bytes))],
      ['LocalURL', leaf('chr', () => images.localUrl(row()))],
      ...(row().error ? [['Error', leaf('chr', () => row().error)] as [string, Node]] : []),
    ],
    {
      // Add of a leaf on an existing entry (the server writes the fields after creating it)
      add: (child, w) => {
        const f = fields.find(([n]) => n === child);
        return f && f[1].kind === 'leaf' && f[1].replace ? f[1].replace(w) : 405;
      },
      remove: () => (editable() ? (void images.remove(name), 200) : 405),
    },
  );
}

export function imagesShape(store: GatewayStore, images: ImageStore, now: () => number): Node {
  return dir(() => store.listImages().map((i) => [i.name, entryShape(i.name, store, images)] as [string, Node]), {
    type: IMAGES_URN,
    child: (name) => (store.getImage(name) ? entryShape(name, store, images) : undefined),
    add: (name, w) => {
      if (!NAME.test(name)) return 400;
      if (w.format !== undefined && w.format !== 'node') return 405;
      store.putImage({
        name,
        imageId: name,
        version: '',
        contentType: 'application/octet-stream',
        state: ImageState.Idle,
        bytes: 0,
        createdAt: now(),
      });
      return 200;
    },
  });
}
