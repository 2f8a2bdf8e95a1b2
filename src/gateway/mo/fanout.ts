// ./GwMO/Fanout: the Fanout MO (urn:oma:mo:oma-gwmo-fanout:1.0). The server creates a job, writes
// targets and commands, Execs Operations/Start (202, Correlator kept) and reads State, Progress,
// Aggregate and Results here while the alerts report the end.
import type { GatewayStore, JobResultRow, JobRow } from '../../store/gateway.ts';
import { parseJobCommands } from '../commands.ts';
import { aggregate, type FanoutRunner, inDoubt, JobState } from '../fanout.ts';
import { dir, leaf, type Node, text, type Write } from './shape.ts';

export const FANOUT_URN = 'urn:oma:mo:oma-gwmo-fanout:1.0';
const NAME = /^[A-Za-z0-9\-_.!~*'():@&=+$,%]+$/;

function jobShape(name: string, store: GatewayStore, runner: FanoutRunner, downloads: (job: string) => string): Node {
  const job = (): JobRow => store.getJob(name)!;
  // a job runs once: a running or finished one is not changed, so a server reusing its name cannot overwrite it
  const editable = (): boolean => job().state === JobState.Created;
  const update = (patch: Partial<JobRow>): number => {
    if (!editable()) return 405;
    store.putJob({ ...job(), ...patch });
    return 200;
  };
  const setCommands = (w: Write): number => {
    const xml = text(w);
    const parsed = parseJobCommands(xml);
    if (!parsed.ok) return parsed.status;
    return update({ commandsXml: xml, commands: parsed.commands });
  };
  const option =
    (key: 'timeoutS' | 'retries' | 'concurrency', max: number) =>
    (w: Write): number => {
      const n = Number(text(w));
      if (!Number.isInteger(n) || n < (key === 'retries' ? 0 : 1) || n > max) return 400;
      return update({ [key]: n });
    };
  // read only when a node needs them all: a Get of one result or of Progress/Done does not (bench images)
  let all: JobResultRow[] | undefined;
  const results = (): JobResultRow[] => (all ??= store.listResults(name));
  return dir(
    () => {
      const j = job();
      const opts: [string, Node][] = [
        ['Timeout', leaf('int', () => (j.timeoutS !== undefined ? String(j.timeoutS) : ''), option('timeoutS', 86_400))],
        ['Retries', leaf('int', () => (j.retries !== undefined ? String(j.retries) : ''), option('retries', 10))],
        ['Concurrency', leaf('int', () => (j.concurrency !== undefined ? String(j.concurrency) : ''), option('concurrency', 10_000))],
      ];
      return [
        [
          'Targets',
          dir(
            () =>
              j.targets.map(
                (t) =>
                  [
                    t.name,
                    {
                      kind: 'leaf',
                      format: 'chr',
                      value: () => t.uri,
                      replace: (w: Write) =>
                        update({ targets: job().targets.map((x) => (x.name === t.name ? { name: t.name, uri: text(w) } : x)) }),
                      remove: () => update({ targets: job().targets.filter((x) => x.name !== t.name) }),
                    } satisfies Node,
                  ] as [string, Node],
              ),
            {
              add: (target, w) =>
                NAME.test(target) && text(w) !== '' ? update({ targets: [...job().targets, { name: target, uri: text(w) }] }) : 400,
            },
          ),
        ],
        ...(j.commandsXml !== '' ? [['Commands', leaf('xml', () => j.commandsXml, setCommands)] as [string, Node]] : []),
        [
          'Options',
          dir(() => opts.filter(([, n]) => n.kind === 'leaf' && n.value() !== ''), {
            add: (opt, w) => {
              const found = opts.find(([n]) => n === opt);
              return found && found[1].kind === 'leaf' && found[1].replace ? found[1].replace(w) : 404;
            },
          }),
        ],
        [
          'Operations',
          dir(() => [
            [
              'Start',
              {
                kind: 'exec',
                exec: ({ correlator }) => {
                  const cur = job();
                  if (cur.state === JobState.Running) return runner.refused(name, 409, 'already running');
                  if (cur.state !== JobState.Created) return runner.refused(name, 409, 'already ran: a job runs once; create another');
                  if (!cur.commands || cur.commands.length === 0) return runner.refused(name, 412, 'the job has no commands');
                  const resolved = runner.resolveTargets(cur.targets.map((t) => t.uri));
                  if (!resolved.ok) return runner.refused(name, resolved.status, resolved.reason);
                  return runner.start(cur, resolved.devices, correlator);
                },
              },
            ],
            ['Cancel', { kind: 'exec', exec: () => runner.cancel(name) }],
          ]),
        ],
        ['State', leaf('int', () => String(j.state))],
        [
          'Progress',
          dir(() => [
            ...downloadsNode(downloads(name)),
            ['Total', leaf('int', () => String(j.devices?.length ?? 0))],
            ['Done', leaf('int', () => String(store.countResults(name)))],
            ['Succeeded', leaf('int', () => String(results().filter((r) => r.status >= 200 && r.status < 300).length))],
            ['Failed', leaf('int', () => String(results().filter((r) => (r.status < 200 || r.status >= 300) && !inDoubt(r)).length))],
            ['InDoubt', leaf('int', () => String(results().filter(inDoubt).length))],
          ]),
        ],
        [
          'Aggregate',
          dir(() =>
            [...aggregate(results())].map(([code, devices]) => [String(code), leaf('int', () => String(devices.length))] as [string, Node]),
          ),
        ],
        [
          'Results',
          dir(() => results().map((r, i) => [String(i + 1), resultShape(r)] as [string, Node]), {
            child: (i) => {
              const r = /^[1-9][0-9]*$/.test(i) ? store.resultAt(name, Number(i) - 1) : undefined;
              return r ? resultShape(r) : undefined;
            },
          }),
        ],
      ];
    },
    {
      add: (child, w) => (child === 'Commands' ? setCommands(w) : 405),
      remove: () => {
        runner.cancel(name);
        return store.deleteJob(name) ? 200 : 404;
      },
    },
  );
}

/** the devices still running that have fetched image bytes from this gateway (src/gateway/downloads.ts); absent when none has */
function downloadsNode(text: string): [string, Node][] {
  return text === '' ? [] : [['Downloads', leaf('chr', () => text)]];
}

function resultShape(r: JobResultRow): Node {
  return dir(() => [
    ['DeviceID', leaf('chr', () => r.deviceId)],
    ['Status', leaf('int', () => String(r.status))],
    ...(inDoubt(r) ? [['InDoubt', leaf('bool', () => 'true')] as [string, Node]] : []),
    [
      'Cmd',
      dir(() =>
        r.commands.map(
          (c, k) =>
            [
              String(k + 1),
              dir(() => [
                ['Status', leaf('int', () => String(c.status))],
                ...(c.data !== undefined
                  ? [['Data', leaf(c.format === 'b64' || c.format === 'bin' ? 'b64' : 'chr', () => c.data)] as [string, Node]]
                  : []),
                ...(c.format ? [['Format', leaf('chr', () => c.format)] as [string, Node]] : []),
              ]),
            ] as [string, Node],
        ),
      ),
    ],
  ]);
}

export function fanoutShape(
  store: GatewayStore,
  runner: FanoutRunner,
  now: () => number,
  downloads: (job: string) => string = () => '',
): Node {
  return dir(() => store.listJobNames().map((name) => [name, jobShape(name, store, runner, downloads)] as [string, Node]), {
    type: FANOUT_URN,
    // every command to a job names it: found by that name, not by reading every job kept (until the server deletes them)
    child: (name) => (store.getJob(name) ? jobShape(name, store, runner, downloads) : undefined),
    add: (name, w) => {
      if (!NAME.test(name)) return 400;
      if (w.format !== undefined && w.format !== 'node') return 405;
      store.putJob({ name, targets: [], commandsXml: '', state: JobState.Created, createdAt: now() });
      return 200;
    },
  });
}
