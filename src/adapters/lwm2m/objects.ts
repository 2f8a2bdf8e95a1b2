// The object models the adapter knows (LwM2M registry): enough to type values and to name
// resources. Unknown objects still work, their values read as strings/opaque.
import type { ResourceType } from './model.ts';

export interface ResourceDef {
  readonly id: number;
  readonly name: string;
  readonly type: ResourceType | 'none';
  readonly operations: 'R' | 'W' | 'RW' | 'E';
  readonly multiple?: boolean;
}

export interface ObjectDef {
  readonly id: number;
  readonly name: string;
  readonly multiple: boolean;
  readonly resources: readonly ResourceDef[];
}

const r = (id: number, name: string, type: ResourceDef['type'], operations: ResourceDef['operations'], multiple = false): ResourceDef =>
  ({ id, name, type, operations, ...(multiple ? { multiple } : {}) });

export const OBJECTS: readonly ObjectDef[] = [
  { id: 0, name: 'LwM2M Security', multiple: true, resources: [r(0, 'LwM2M Server URI', 'string', 'R'), r(1, 'Bootstrap-Server', 'boolean', 'R'), r(2, 'Security Mode', 'integer', 'R'), r(10, 'Short Server ID', 'integer', 'R')] },
  { id: 1, name: 'LwM2M Server', multiple: true, resources: [r(0, 'Short Server ID', 'integer', 'R'), r(1, 'Lifetime', 'integer', 'RW'), r(6, 'Notification Storing', 'boolean', 'RW'), r(7, 'Binding', 'string', 'RW'), r(8, 'Registration Update Trigger', 'none', 'E')] },
  { id: 3, name: 'Device', multiple: false, resources: [
    r(0, 'Manufacturer', 'string', 'R'), r(1, 'Model Number', 'string', 'R'), r(2, 'Serial Number', 'string', 'R'), r(3, 'Firmware Version', 'string', 'R'),
    r(4, 'Reboot', 'none', 'E'), r(6, 'Available Power Sources', 'integer', 'R', true), r(9, 'Battery Level', 'integer', 'R'), r(11, 'Error Code', 'integer', 'R', true),
    r(13, 'Current Time', 'time', 'RW'), r(14, 'UTC Offset', 'string', 'RW'), r(15, 'Timezone', 'string', 'RW'), r(16, 'Supported Binding and Modes', 'string', 'R'),
    r(17, 'Device Type', 'string', 'R'), r(18, 'Hardware Version', 'string', 'R'), r(19, 'Software Version', 'string', 'R'),
  ] },
  { id: 5, name: 'Firmware Update', multiple: false, resources: [
    r(0, 'Package', 'opaque', 'W'), r(1, 'Package URI', 'string', 'RW'), r(2, 'Update', 'none', 'E'), r(3, 'State', 'integer', 'R'),
    r(5, 'Update Result', 'integer', 'R'), r(6, 'PkgName', 'string', 'R'), r(7, 'PkgVersion', 'string', 'R'), r(9, 'Firmware Update Delivery Method', 'integer', 'R'),
  ] },
  { id: 3303, name: 'Temperature', multiple: true, resources: [
    r(5700, 'Sensor Value', 'float', 'R'), r(5701, 'Sensor Units', 'string', 'R'), r(5601, 'Min Measured Value', 'float', 'R'), r(5602, 'Max Measured Value', 'float', 'R'),
    r(5605, 'Reset Min and Max Measured Values', 'none', 'E'), r(5750, 'Application Type', 'string', 'RW'),
  ] },
];

const BY_ID = new Map(OBJECTS.map((o) => [o.id, o]));

export function objectDef(id: number): ObjectDef | undefined {
  return BY_ID.get(id);
}

export function resourceDef(objectId: number, resourceId: number): ResourceDef | undefined {
  return BY_ID.get(objectId)?.resources.find((x) => x.id === resourceId);
}

/** The type to read a value with: the model's, else string (unknown resources). */
export function typeOf(objectId: number): (resourceId: number) => ResourceType {
  return (rid) => {
    const t = resourceDef(objectId, rid)?.type;
    return t === undefined || t === 'none' ? 'string' : t;
  };
}

/** DM Format of an LwM2M resource type (docs/lwm2m.md). */
export function dmFormat(type: ResourceType | 'none'): string {
  switch (type) {
    case 'integer': case 'unsigned': case 'time': return 'int';
    case 'boolean': return 'bool';
    case 'float': return 'float';
    case 'opaque': return 'b64';
    case 'none': return 'null';
    default: return 'chr';
  }
}
