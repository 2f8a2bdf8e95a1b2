// ./GwMO/DevInventory: the Device Inventory MO (urn:oma:mo:oma-gwmo-deviceinventory:1.1) with the
// summary (DI-002), one node per device (DI-001, DI-003) and the groups (Group-001).
import type { GatewayStore, InventoryRow } from '../../store/gateway.ts';
import type { Inventory } from '../inventory.ts';
import { fromNodeName, nodeName } from '../names.ts';
import { type BootstrapSpec, readSpec, writeSpec } from '../bootstrap.ts';
import { dir, leaf, type Node, text, type Write } from './shape.ts';

export const INVENTORY_URN = 'urn:oma:mo:oma-gwmo-deviceinventory:1.1';
const SEGMENT = /^[A-Za-z0-9\-_.!~*'():@&=+$,%]+$/;

export interface InventoryDeps {
  readonly store: GatewayStore;
  readonly inventory: Inventory;
  /** commands queued for the device and not answered yet */
  pending(deviceId: string): number;
  /** HLF-003: the credentials a device the server announced will authenticate with (name, secret) */
  credentials(deviceId: string): { name?: string; hasSecret: boolean } | undefined;
  setCredentials(deviceId: string, patch: { name?: string; secret?: string }): void;
  /** a DM device's server secret: Own, Shared, Rotating or Refused (src/gateway/server-secret.ts); undefined: no DM account */
  serverSecret?(deviceId: string): string | undefined;
  /** LwM2M queue mode: whether the device listens now; undefined for a device that is always reachable */
  awake?(deviceId: string): boolean | undefined;
  /** LwM2M: the object links of the device's registration (link format); undefined for other devices */
  objects?(deviceId: string): string | undefined;
  /** why the device is shown as not answering Package#0 (undefined: it answers) */
  notifyProblem?(deviceId: string): string | undefined;
  /** the server wrote Status 0 (the device turned up behind another gateway): jobs stop waiting for it */
  left?(deviceId: string): void;
  /** HLF-005/006: Exec Bootstrap/Operations/Start */
  bootstrap(deviceId: string, correlator: string | undefined): number;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function deviceShape(d: InventoryRow, deps: InventoryDeps): Node {
  const { store } = deps;
  const info = (key: string): [string, Node][] => (d.info[key] !== undefined ? [[key, leaf('chr', () => d.info[key])]] : []);
  return dir(
    () => [
      ['DeviceID', leaf('chr', () => d.deviceId)],
      ...(d.info['DevTyp'] !== undefined ? [['DeviceType', leaf('chr', () => d.info['DevTyp'])] as [string, Node]] : []),
      ...['Man', 'Mod', 'Serial', 'FwV', 'SwV', 'HwV', 'Lang'].flatMap(info),
      ['Protocol', leaf('chr', () => d.protocol)],
      [
        'Mode',
        leaf(
          'int',
          () => String(d.mode),
          (w) => {
            const mode = Number(text(w));
            if (![1, 2, 3].includes(mode)) return 400;
            store.putDevice({ ...d, mode });
            return 200;
          },
        ),
      ],
      // the server writes 0 when the device turned up behind another gateway (a nomadic device left
      // this one): it is detached here at once, so only one gateway shows it attached; 1 is the device's to say
      [
        'Status',
        leaf(
          'int',
          () => (d.attached ? '1' : '0'),
          (w) => (text(w).trim() === '0' ? (deps.inventory.detach(d.deviceId), deps.left?.(d.deviceId), 200) : 400),
        ),
      ],
      ['LastSeen', leaf('chr', () => iso(d.lastSeen))],
      ...(deps.awake?.(d.deviceId) !== undefined
        ? [['Awake', leaf('bool', () => String(deps.awake?.(d.deviceId) ?? false))] as [string, Node]]
        : []),
      ...(deps.objects?.(d.deviceId) !== undefined
        ? [['Objects', leaf('chr', () => deps.objects?.(d.deviceId) ?? '')] as [string, Node]]
        : []),
      ...(deps.notifyProblem?.(d.deviceId) !== undefined
        ? [['NotifyProblem', leaf('chr', () => deps.notifyProblem?.(d.deviceId) ?? '')] as [string, Node]]
        : []),
      ...(d.localAddress ? [['LocalAddress', leaf('chr', () => d.localAddress)] as [string, Node]] : []),
      // B.1: a device with a routable address says so (DevInfo/Ext/PublicAddress, a gwmo extension)
      ...(d.info['Ext/PublicAddress'] ? [['PublicAddress', leaf('chr', () => d.info['Ext/PublicAddress'])] as [string, Node]] : []),
      [
        'Groups',
        leaf('chr', () =>
          store
            .listGroups()
            .filter((g) => g.members.some((m) => m.deviceId === d.deviceId))
            .map((g) => g.name)
            .join(','),
        ),
      ],
      ['Sync', dir(() => [['Pending', leaf('int', () => String(deps.pending(d.deviceId)))]])],
      [
        'Credentials',
        dir(
          () => {
            const c = deps.credentials(d.deviceId);
            return [
              ...(c
                ? [
                    [
                      'AuthName',
                      leaf(
                        'chr',
                        () => c.name ?? '',
                        (w) => (deps.setCredentials(d.deviceId, { name: text(w) }), 200),
                      ),
                    ] as [string, Node],
                  ]
                : []),
              // the secret is written, never read back
              ...(c?.hasSecret
                ? [
                    [
                      'AuthSecret',
                      {
                        kind: 'leaf',
                        format: 'chr',
                        value: () => undefined,
                        replace: (w) => (text(w) === '' ? 400 : (deps.setCredentials(d.deviceId, { secret: text(w) }), 200)),
                      } satisfies Node,
                    ] as [string, Node],
                  ]
                : []),
            ];
          },
          {
            add: (child, w) =>
              child === 'AuthName' || child === 'AuthSecret'
                ? (deps.setCredentials(d.deviceId, child === 'AuthName' ? { name: text(w) } : { secret: text(w) }), 200)
                : 405,
          },
        ),
      ],
      ...(deps.serverSecret?.(d.deviceId) !== undefined
        ? [['ServerSecret', leaf('chr', () => deps.serverSecret?.(d.deviceId) ?? '')] as [string, Node]]
        : []),
      ['Bootstrap', bootstrapShape(d.deviceId, deps)],
    ],
    { remove: () => (store.deleteDevice(d.deviceId) ? 200 : 404) },
  );
}

function bootstrapShape(deviceId: string, deps: InventoryDeps): Node {
  const spec = (): BootstrapSpec => readSpec(deps.store, deviceId);
  const field = (key: keyof BootstrapSpec, secret = false): Node => ({
    kind: 'leaf',
    format: key === 'target' ? 'int' : 'chr',
    value: () => (secret ? undefined : spec()[key] !== undefined ? String(spec()[key]) : ''),
    replace: (w: Write) => {
      const v = text(w);
      if (key === 'target' && v !== '1' && v !== '2') return 400;
      writeSpec(deps.store, deviceId, { [key]: key === 'target' ? Number(v) : v });
      return 200;
    },
  });
  const fields: [string, Node][] = [
    ['Target', field('target')],
    ['ServerID', field('serverId')],
    ['ServerURI', field('serverUri')],
    ['AuthName', field('authName')],
    ['AuthSecret', field('authSecret', true)],
    ['ServerSecret', field('serverSecret', true)],
  ];
  return dir(
    () => [
      ...fields,
      ['Operations', dir(() => [['Start', { kind: 'exec', exec: ({ correlator }) => deps.bootstrap(deviceId, correlator) }]])],
    ],
    {
      add: (child, w) => {
        const f = fields.find(([n]) => n === child);
        return f && f[1].kind === 'leaf' && f[1].replace ? f[1].replace(w) : 405;
      },
    },
  );
}

function groupShape(name: string, deps: InventoryDeps): Node {
  const { store } = deps;
  const group = () => store.getGroup(name)!;
  return dir(
    () => [
      [
        'Description',
        leaf(
          'chr',
          () => group().description,
          (w) => (store.putGroup(name, text(w)), 200),
        ),
      ],
      // MOO-001: a mode the server sets for every member, now and when added later (0 = none)
      [
        'Mode',
        leaf(
          'int',
          () => String(group().mode),
          (w) => {
            const mode = Number(text(w));
            if (![0, 1, 2, 3].includes(mode)) return 400;
            store.setGroupMode(name, mode);
            if (mode !== 0) for (const m of group().members) applyMode(m.deviceId, mode);
            return 200;
          },
        ),
      ],
      [
        'Members',
        dir(() => group().members.map((m) => [m.name, memberShape(m)] as [string, Node]), {
          // each member's DeviceID is read one Get at a time (server/distributions.ts targets)
          child: (member) => {
            const m = store.getMember(name, member);
            return m ? memberShape(m) : undefined;
          },
          add: (member, w) => setMember(member, text(w)),
          // Delete of Members empties the group (the node itself stays)
          remove: () => (store.setMembers(name, []), 200),
        }),
      ],
    ],
    {
      remove: () => (store.deleteGroup(name) ? 200 : 404),
      rename: (to) => {
        if (!SEGMENT.test(to)) return 400;
        return store.renameGroup(name, to) ? 200 : 418;
      },
    },
  );

  function memberShape(m: { name: string; deviceId: string }): Node {
    return {
      kind: 'leaf',
      format: 'chr',
      value: () => m.deviceId,
      replace: (w) => setMember(m.name, text(w)),
      remove: () => (
        store.setMembers(
          name,
          group().members.filter((x) => x.name !== m.name),
        ),
        200
      ),
    };
  }

  function setMember(member: string, deviceId: string): number {
    if (!SEGMENT.test(member) || deviceId === '') return 400;
    const members = group().members.filter((m) => m.name !== member);
    store.setMembers(name, [...members, { name: member, deviceId }]);
    if (group().mode !== 0) applyMode(deviceId, group().mode);
    return 200;
  }

  function applyMode(deviceId: string, mode: number): void {
    const d = store.getDevice(deviceId);
    if (d && d.mode !== mode) store.putDevice({ ...d, mode });
  }
}

export function inventoryShape(deps: InventoryDeps): Node {
  const { store, inventory } = deps;
  const count = (n: () => number): Node => leaf('int', () => String(n()));
  return dir(
    () => [
      [
        'Summary',
        dir(() => {
          const s = inventory.summary();
          const map = (o: Record<string, number>): Node =>
            dir(() => Object.entries(o).map(([k, v]) => [nodeName(k), count(() => v)] as [string, Node]));
          return [
            ['Total', count(() => s.total)],
            ['Attached', count(() => s.attached)],
            ['Detached', count(() => s.detached)],
            ['ByMode', map(s.byMode)],
            ['ByProtocol', map(s.byProtocol)],
            ['ByType', map(s.byType)],
          ];
        }),
      ],
      [
        'Devices',
        dir(() => (inventory.flush(), store.listDevices()).map((d) => [nodeName(d.deviceId), deviceShape(d, deps)] as [string, Node]), {
          // a command to one device finds it by name: listing 10,000 devices for each was the bench's hot spot
          child: (name) => {
            inventory.flush();
            const d = store.getDevice(fromNodeName(name));
            return d && nodeName(d.deviceId) === name ? deviceShape(d, deps) : undefined;
          },
          // HLF-003, B.6: the server announces a device before it appears; its Credentials follow
          add: (name, w) => {
            if (w.format !== undefined && w.format !== 'node') return 405;
            const deviceId = fromNodeName(name);
            store.putDevice({ deviceId, mode: 0, protocol: 'OMA-DM/1.2', attached: false, firstSeen: 0, lastSeen: 0, info: {} });
            return 200;
          },
        }),
      ],
      [
        'Groups',
        dir(() => store.listGroups().map((g) => [g.name, groupShape(g.name, deps)] as [string, Node]), {
          child: (name) => (store.hasGroup(name) ? groupShape(name, deps) : undefined),
          add: (name, w) => {
            if (!SEGMENT.test(name)) return 400;
            if (w.format !== undefined && w.format !== 'node') return 405;
            store.putGroup(name, '');
            return 200;
          },
        }),
      ],
    ],
    { type: INVENTORY_URN },
  );
}

export { fromNodeName };
