// The object models the adapter knows: the OMA LwM2M registry (registry.ts) for every registered
// object, with the few objects gwmo uses written out below where the registry's package loses
// something (executable resources, operations, Opaque). Objects in neither still work: their
// values keep the type the device or the DM server gave.
import type { ResourceType, Value } from './model.ts';
import { registryObjects } from './registry.ts';

export interface ResourceDef {
  readonly id: number;
  readonly name: string;
  readonly type: ResourceType | 'none';
  /** '' when the source does not say (the registry package carries no operations) */
  readonly operations: 'R' | 'W' | 'RW' | 'E' | '';
  readonly multiple?: boolean;
}

export interface ObjectDef {
  readonly id: number;
  readonly name: string;
  readonly multiple: boolean;
  readonly resources: readonly ResourceDef[];
}

const r = (id: number, name: string, type: ResourceDef['type'], operations: ResourceDef['operations'], multiple = false): ResourceDef => ({
  id,
  name,
  type,
  operations,
  ...(multiple ? { multiple } : {}),
});

/** Hand-written: object 0 (the package leaves it out) and what the package drops for 1, 3, 5, 3303. */
export const OBJECTS: readonly ObjectDef[] = [
  {
    id: 0,
    name: 'LwM2M Security',
    multiple: true,
    resources: [
      r(0, 'LwM2M Server URI', 'string', 'R'),
      r(1, 'Bootstrap-Server', 'boolean', 'R'),
      r(2, 'Security Mode', 'integer', 'R'),
      // keys: written by the bootstrap server only, readable by no LwM2M server
      r(3, 'Public Key or Identity', 'opaque', ''),
      r(4, 'Server Public Key', 'opaque', ''),
      r(5, 'Secret Key', 'opaque', ''),
      r(10, 'Short Server ID', 'integer', 'R'),
    ],
  },
  {
    id: 1,
    name: 'LwM2M Server',
    multiple: true,
    resources: [
      r(0, 'Short Server ID', 'integer', 'R'),
      r(1, 'Lifetime', 'integer', 'RW'),
      r(6, 'Notification Storing', 'boolean', 'RW'),
      r(7, 'Binding', 'string', 'RW'),
      r(8, 'Registration Update Trigger', 'none', 'E'),
    ],
  },
  {
    id: 3,
    name: 'Device',
    multiple: false,
    resources: [
      r(0, 'Manufacturer', 'string', 'R'),
      r(1, 'Model Number', 'string', 'R'),
      r(2, 'Serial Number', 'string', 'R'),
      r(3, 'Firmware Version', 'string', 'R'),
      r(4, 'Reboot', 'none', 'E'),
      r(6, 'Available Power Sources', 'integer', 'R', true),
      r(9, 'Battery Level', 'integer', 'R'),
      r(11, 'Error Code', 'integer', 'R', true),
      r(13, 'Current Time', 'time', 'RW'),
      r(14, 'UTC Offset', 'string', 'RW'),
      r(15, 'Timezone', 'string', 'RW'),
      r(16, 'Supported Binding and Modes', 'string', 'R'),
      r(17, 'Device Type', 'string', 'R'),
      r(18, 'Hardware Version', 'string', 'R'),
      r(19, 'Software Version', 'string', 'R'),
    ],
  },
  {
    id: 5,
    name: 'Firmware Update',
    multiple: false,
    resources: [
      r(0, 'Package', 'opaque', 'W'),
      r(1, 'Package URI', 'string', 'RW'),
      r(2, 'Update', 'none', 'E'),
      r(3, 'State', 'integer', 'R'),
      r(5, 'Update Result', 'integer', 'R'),
      r(6, 'PkgName', 'string', 'R'),
      r(7, 'PkgVersion', 'string', 'R'),
      r(8, 'Firmware Update Protocol Support', 'integer', 'R', true),
      r(9, 'Firmware Update Delivery Method', 'integer', 'R'),
    ],
  },
  {
    id: 3303,
    name: 'Temperature',
    multiple: true,
    resources: [
      r(5700, 'Sensor Value', 'float', 'R'),
      r(5701, 'Sensor Units', 'string', 'R'),
      r(5601, 'Min Measured Value', 'float', 'R'),
      r(5602, 'Max Measured Value', 'float', 'R'),
      r(5605, 'Reset Min and Max Measured Values', 'none', 'E'),
      r(5750, 'Application Type', 'string', 'RW'),
    ],
  },
];

const HAND = new Map(OBJECTS.map((o) => [o.id, o]));
const merged = new Map<number, ObjectDef | undefined>();

/** The registry's model with the hand-written resources over it. */
export function objectDef(id: number): ObjectDef | undefined {
  if (merged.has(id)) return merged.get(id);
  const hand = HAND.get(id);
  const reg = registryObjects().get(id);
  const def =
    hand && reg
      ? { ...hand, resources: [...hand.resources, ...reg.resources.filter((r) => !hand.resources.some((h) => h.id === r.id))] }
      : (hand ?? reg);
  merged.set(id, def);
  return def;
}

export function resourceDef(objectId: number, resourceId: number): ResourceDef | undefined {
  return objectDef(objectId)?.resources.find((x) => x.id === resourceId);
}

/** The type to read a value with: the model's, else string (unknown resources). */
export function typeOf(objectId: number): (resourceId: number) => ResourceType {
  return (rid) => {
    const t = resourceDef(objectId, rid)?.type;
    return t === undefined || t === 'none' ? 'string' : t;
  };
}

/** The type of a value the model does not type: what it is (3800 an integer, -30.5 a float). */
export function typeOfValue(value: Value): ResourceType {
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  if (typeof value === 'boolean') return 'boolean';
  if (value instanceof Uint8Array) return 'opaque';
  return typeof value === 'object' ? 'objlnk' : 'string';
}

/** The type to write a value with: the model's, else the value's own. */
export function writeTypeOf(objectId: number, resourceId: number, value: Value): ResourceType {
  const t = resourceDef(objectId, resourceId)?.type;
  return t === undefined || t === 'none' ? typeOfValue(value) : t;
}

/** DM Format of an LwM2M resource type (docs/lwm2m.md). */
export function dmFormat(type: ResourceType | 'none'): string {
  switch (type) {
    case 'integer':
    case 'unsigned':
    case 'time':
      return 'int';
    case 'boolean':
      return 'bool';
    case 'float':
      return 'float';
    case 'opaque':
      return 'b64';
    case 'none':
      return 'null';
    default:
      return 'chr';
  }
}
