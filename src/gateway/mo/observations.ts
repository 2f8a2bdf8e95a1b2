// ./GwMO/Observations (a gwmo extension, docs/lwm2m.md): the server adds an entry, writes Path,
// Devices and Attributes, and Execs Operations/Start; Delete cancels it on every device.
import type { Lwm2mObservations, ObservationSpec } from '../lwm2m-observations.ts';
import { parseAttributes } from '../lwm2m-observations.ts';
import { lwm2mPath } from '../../adapters/lwm2m/paths.ts';
import { dir, leaf, type Node, text, type Write } from './shape.ts';

const NAME = /^[A-Za-z0-9\-_.!~*'():@&=+$,%]+$/;

function entryShape(name: string, obs: Lwm2mObservations): Node {
  const spec = (): ObservationSpec => obs.get(name)!;
  const set =
    (patch: (w: Write) => Partial<ObservationSpec> | number) =>
    (w: Write): number => {
      if (spec().started) return 405; // started: a change is a Delete and a new observation
      const p = patch(w);
      if (typeof p === 'number') return p;
      obs.put({ ...spec(), ...p });
      return 200;
    };
  const fields: [string, Node][] = [
    [
      'Path',
      leaf(
        'chr',
        () => spec().path,
        set((w) => (lwm2mPath(text(w)) ? { path: text(w) } : 400)),
      ),
    ],
    [
      'Devices',
      leaf(
        'chr',
        () => spec().devices.join(','),
        set((w) => ({
          devices: text(w)
            .split(',')
            .map((d) => d.trim())
            .filter((d) => d !== ''),
        })),
      ),
    ],
    [
      'Groups',
      leaf(
        'chr',
        () => (spec().groups ?? []).join(','),
        set((w) => ({
          groups: text(w)
            .split(',')
            .map((g) => g.trim())
            .filter((g) => g !== ''),
        })),
      ),
    ],
    [
      'Attributes',
      leaf(
        'chr',
        () =>
          Object.entries(spec().attributes)
            .map(([k, v]) => `${k}=${v}`)
            .join('&'),
        set((w) => {
          const a = parseAttributes(text(w));
          return a ? { attributes: a } : 400;
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
          [
            'Start',
            {
              kind: 'exec',
              exec: () => {
                if (spec().started) return 409;
                if (spec().path === '' || (spec().devices.length === 0 && (spec().groups ?? []).length === 0)) return 412;
                obs.put({ ...spec(), started: true });
                void obs.start(name); // a sleeping device is observed when it wakes: the server reads Active
                return 200;
              },
            },
          ],
        ]),
      ],
      ['Active', leaf('int', () => String(obs.active(name)))],
    ],
    {
      add: (child, w) => {
        const f = fields.find(([n]) => n === child);
        return f && f[1].kind === 'leaf' && f[1].replace ? f[1].replace(w) : 405;
      },
      remove: () => (obs.remove(name) ? 200 : 404),
    },
  );
}

export const OBSERVATIONS_URN = 'urn:x-gwmo:mo:lwm2m-observations:1.0';

/** `observations()` is undefined while the gateway has no LwM2M server: then nothing can be added. */
export function observationsShape(observations: () => Lwm2mObservations | undefined): Node {
  return dir(
    () => {
      const obs = observations();
      return obs ? obs.list().map((s) => [s.name, entryShape(s.name, obs)] as [string, Node]) : [];
    },
    {
      type: OBSERVATIONS_URN,
      child: (name) => {
        const obs = observations();
        return obs?.get(name) ? entryShape(name, obs) : undefined;
      },
      add: (name, w) => {
        const obs = observations();
        if (!obs) return 405;
        if (!NAME.test(name)) return 400;
        if (w.format !== undefined && w.format !== 'node') return 405;
        if (obs.get(name)) return 418; // DM 1.2: already exists
        obs.put({ name, path: '', devices: [], attributes: {} });
        return 200;
      },
    },
  );
}
