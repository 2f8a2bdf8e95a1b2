// The OMA LwM2M object registry as @nordicsemiconductor/lwm2m-types ships it (a JSON schema built
// from the registry's DDF XML files), turned into gwmo's object models on first use. The schema
// keeps names, types and multiplicity; it drops executable resources, operations and the
// difference between Opaque and String (both "string"), which objects.ts adds back for the
// objects gwmo itself uses.
import { readFileSync } from 'node:fs';

import type { ResourceType } from './model.ts';
import type { ObjectDef, ResourceDef } from './objects.ts';

interface SchemaProp {
  readonly type?: string;
  readonly title?: string;
  readonly unixTimestamp?: boolean;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly items?: SchemaProp;
}

interface SchemaObject {
  readonly title?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaProp>>;
  /** multi-instance objects are an array of instances */
  readonly items?: SchemaObject;
}

/** The schema's JSON type → LwM2M type (Boolean is written as an integer 0..1, Objlnk as "^dd:dd$"). */
function typeOfProp(p: SchemaProp): ResourceType {
  switch (p.type) {
    case 'number':
      return 'float';
    case 'boolean':
      return 'boolean';
    case 'integer':
      if (p.unixTimestamp) return 'time';
      return p.minimum === 0 && p.maximum === 1 ? 'boolean' : 'integer';
    default:
      return p.pattern === '^dd:dd$' ? 'objlnk' : 'string';
  }
}

export function objectsFromSchema(schema: { properties?: Readonly<Record<string, SchemaObject>> }): ObjectDef[] {
  const out: ObjectDef[] = [];
  // keys are "3311" or "3:1.2@1.1" (object, object version, LwM2M version): the id is what precedes ":"
  for (const [key, o] of Object.entries(schema.properties ?? {})) {
    const id = Number(key.split(':')[0]);
    if (!Number.isInteger(id)) continue;
    const resources: ResourceDef[] = Object.entries((o.items ?? o).properties ?? {}).map(([rid, p]) => {
      const multiple = p.type === 'array';
      return {
        id: Number(rid),
        name: p.title ?? rid,
        type: typeOfProp(multiple ? (p.items ?? {}) : p),
        operations: '',
        ...(multiple ? { multiple } : {}),
      };
    });
    out.push({ id, name: o.title ?? key, multiple: /MultipleInstances: true/.test(o.description ?? ''), resources });
  }
  return out;
}

let loaded: Map<number, ObjectDef> | undefined;

/** The registry's objects by id, read once (1.2 MB of JSON: only when a lookup needs it). */
export function registryObjects(): ReadonlyMap<number, ObjectDef> {
  if (!loaded) {
    // the package's entry point imports its JSON with the old `assert` syntax Node 24 refuses: read the file beside it
    const file = new URL('LwM2MDocument.schema.json', import.meta.resolve('@nordicsemiconductor/lwm2m-types'));
    const schema = JSON.parse(readFileSync(file, 'utf8')) as { properties?: Record<string, SchemaObject> };
    loaded = new Map(objectsFromSchema(schema).map((o) => [o.id, o]));
  }
  return loaded;
}
