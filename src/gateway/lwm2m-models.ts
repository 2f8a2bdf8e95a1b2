// The LwM2M object models the gateway adapts with (the OMA registry plus gwmo's own entries), as
// the server's API and dashboard show them: the api layer reaches adapters through the gateway role.
import { type ObjectDef, objectDef } from '../adapters/lwm2m/objects.ts';

export type Lwm2mObjectModel = ObjectDef;

export function lwm2mObjectModel(id: number): Lwm2mObjectModel | undefined {
  return objectDef(id);
}
