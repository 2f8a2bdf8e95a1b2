// ./GwMO/EDTrigger: the End Device Trigger MO (urn:oma:mo:oma-gwmo-edtrigger:1.0). The server adds
// an entry, writes DeviceID and the Package#0 (Notification, b64), and Execs Operations/Trigger;
// the Exec's status says what happened (and Status keeps it).
import type { ItemData } from '../../protocol/index.ts';
import type { TransparentForwarder } from '../transparent.ts';
import { dir, leaf, type Node, text, type Write } from './shape.ts';

export const EDTRIGGER_URN = 'urn:oma:mo:oma-gwmo-edtrigger:1.0';
const NAME = /^[A-Za-z0-9\-_.!~*'():@&=+$,%]+$/;

interface Entry {
  deviceId: string;
  notification?: Uint8Array;
  status: number;
  reason: string;
}

export function edTriggerShape(
  entries: Map<string, Entry>,
  forwarder: TransparentForwarder,
  log: (e: string, f: Record<string, unknown>) => void,
): Node {
  const bytes = (w: Write): Uint8Array | undefined =>
    w.data instanceof Uint8Array
      ? w.data
      : typeof w.data === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(w.data)
        ? new Uint8Array(Buffer.from(w.data, 'base64'))
        : undefined;
  const entryShape = (name: string, e: Entry): Node => {
    const fields: [string, Node][] = [
      [
        'DeviceID',
        leaf(
          'chr',
          () => e.deviceId,
          (w) => ((e.deviceId = text(w)), 200),
        ),
      ],
      [
        'Notification',
        {
          kind: 'leaf',
          format: 'b64',
          value: (): ItemData | undefined => e.notification ?? new Uint8Array(0),
          replace: (w) => {
            const b = bytes(w);
            if (!b) return 400;
            e.notification = b;
            return 200;
          },
        },
      ],
    ];
    return dir(
      () => [
        ...fields,
        [
          'Operations',
          dir(() => [
            [
              'Trigger',
              {
                kind: 'exec',
                exec: async () => {
                  const out = await forwarder.forward(e.deviceId, e.notification);
                  e.status = out.status;
                  e.reason = out.reason;
                  log('transparent.trigger', { entry: name, deviceId: e.deviceId, status: out.status, reason: out.reason });
                  return out.status;
                },
              },
            ],
          ]),
        ],
        ['Status', leaf('int', () => String(e.status))],
        ['Reason', leaf('chr', () => e.reason)],
      ],
      {
        add: (child, w) => {
          const f = fields.find(([n]) => n === child);
          return f && f[1].kind === 'leaf' && f[1].replace ? f[1].replace(w) : 405;
        },
        remove: () => (entries.delete(name), 200),
      },
    );
  };
  return dir(() => [...entries].map(([name, e]) => [name, entryShape(name, e)] as [string, Node]), {
    type: EDTRIGGER_URN,
    add: (name, w) => {
      if (!NAME.test(name)) return 400;
      if (w.format !== undefined && w.format !== 'node') return 405;
      entries.set(name, { deviceId: '', status: 0, reason: '' });
      return 200;
    },
  });
}
