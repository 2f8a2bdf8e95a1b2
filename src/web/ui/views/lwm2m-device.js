// The page of an LwM2M device behind a gateway, as Leshan's client page: the objects it registered
// (the gateway's inventory node Objects), named from the registry (GET /api/lwm2m/objects/{id}),
// each instance's resources with type, access and value (one Read of every instance through a
// device job), Read / Write / Execute / Observe / Cancel acting through the gateway, and observed
// values updated live from the gateway's notify/send alerts (GET /api/alerts/events).
import { ApiFailure, api } from '../api.js';
import { announce, enc, errorText, h, scrollTable } from '../dom.js';
import { alertsSection } from './device-alerts.js';
import { run, statusText } from './device-jobs.js';

const DM_FORMAT = { integer: 'int', unsigned: 'int', time: 'int', float: 'float', boolean: 'bool', opaque: 'b64' };
const NAME_SAFE = /[^A-Za-z0-9\-_.!~*'():@&=+$,]/g;

/** "</1/0>,</3/0>;ver=1.1,</5>" → Map(object id → instance ids) */
export function registeredObjects(links) {
  const objects = new Map();
  for (const m of String(links ?? '').matchAll(/<\/(\d+)(?:\/(\d+))?[^>]*>/g)) {
    const o = Number(m[1]);
    if (!objects.has(o)) objects.set(o, []);
    if (m[2] !== undefined && !objects.get(o).includes(Number(m[2]))) objects.get(o).push(Number(m[2]));
  }
  return new Map([...objects].sort(([a], [b]) => a - b));
}

/** SenML JSON (RFC 8428, the gateway's Data for several values) → [{ path, value }] */
function senmlValues(text) {
  let records;
  try {
    records = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(records)) return [];
  let bn = '';
  return records.flatMap((r) => {
    if (typeof r?.bn === 'string') bn = r.bn;
    const path = `${bn}${r?.n ?? ''}`;
    const value = r.v ?? r.vs ?? r.vb ?? r.vd ?? r.vlo;
    return value === undefined ? [] : [{ path, value: String(value) }];
  });
}

/** "./GwMO/DevInventory/Devices/<x>" → the DeviceID (node names are %XX-escaped) */
function sourceDevice(source) {
  const m = /^\.\/GwMO\/DevInventory\/Devices\/([^/]+)$/.exec(source ?? '');
  try {
    return m ? decodeURIComponent(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** an observation's name on the gateway: one per device and path, so Cancel finds what Observe set */
const observationName = (deviceId, path) => `ui.${deviceId.replace(NAME_SAFE, '_')}${path.replaceAll('/', '.')}`;

async function objectModel(id) {
  try {
    return await api('GET', `/api/lwm2m/objects/${id}`);
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 404) return { id, name: `Object ${id}`, resources: [] };
    throw err;
  }
}

export async function lwm2mDeviceView(ctx, gatewayId, deviceId, entry) {
  const objects = registeredObjects(entry.Objects);
  const models = new Map(await Promise.all([...objects.keys()].map(async (id) => [id, await objectModel(id)])));
  const cells = new Map(); // "/3/0/1" → the value's <output>
  const gid = enc(gatewayId);

  const setValue = (path, value, how) => {
    const out = cells.get(path);
    if (!out) return;
    out.textContent = value;
    out.dataset.source = how;
    out.title = `${how} ${new Date().toLocaleTimeString()}`;
  };
  /** "/3/0/6/1" (a resource instance) shows in its resource's cell as "1: value" */
  const show = (values, how) => {
    const grouped = new Map();
    for (const { path, value } of values) {
      const parts = path.split('/');
      const resource = parts.slice(0, 4).join('/');
      const text = parts.length > 4 ? `${parts[4]}: ${value}` : value;
      grouped.set(resource, [...(grouped.get(resource) ?? []), text]);
    }
    for (const [path, texts] of grouped) setValue(path, texts.join(', '), how);
  };

  const outcome = h('p', { role: 'status', id: 'lwm2m-outcome' });
  const say = (text, failed = false) => {
    outcome.textContent = text;
    outcome.className = failed ? 'error' : 'notice';
    announce(text);
  };
  const act = async (label, commands, onOk) => {
    say(`${label}…`);
    try {
      const job = await run(deviceId, commands);
      const r = job.results?.[0];
      const code = r?.status ?? job.status;
      if (code !== 200) return say(`${label}: the device answered ${statusText(code)}.`, true);
      onOk?.(r);
      say(`${label}: done.`);
    } catch (err) {
      say(`${label}: ${err.message}`, true);
    }
  };
  const readOne = (path) =>
    act(`Read ${path}`, [{ kind: 'Get', path: `.${path}` }], (r) =>
      r.format === 'chr' && String(r.data ?? '').startsWith('[') ? show(senmlValues(r.data), 'read') : setValue(path, r.data ?? '', 'read'),
    );
  const observe = async (path, start) => {
    const name = observationName(deviceId, path);
    const label = `${start ? 'Observe' : 'Cancel the observation of'} ${path}`;
    say(`${label}…`);
    try {
      if (start) {
        const r = await api('POST', `/api/gateways/${gid}/observations?wait=20`, { name, path: `.${path}`, devices: [deviceId] });
        say(
          r.started
            ? `Observing ${path}: new values appear as the device notifies them.`
            : `${label}: queued, the gateway has not answered yet.`,
        );
      } else {
        const r = await api('DELETE', `/api/gateways/${gid}/observations/${enc(name)}?wait=20`);
        say(r.pending ? `${label}: queued, the gateway has not answered yet.` : `No longer observing ${path}.`);
      }
    } catch (err) {
      say(`${label}: ${err.message}`, true);
    }
  };

  const button = (text, path, onclick) => h('button', { type: 'button', 'aria-label': `${text} ${path}`, onclick }, text);
  const resourceRows = (model, o, i) =>
    model.resources.flatMap((r) => {
      const path = `/${o}/${i}/${r.id}`;
      const value = h('output', { class: 'value' });
      cells.set(path, value);
      const ops = r.operations;
      const executable = ops === 'E' || r.type === 'none';
      const readable = !executable && (ops === '' || ops.includes('R'));
      const writable = !executable && (ops === '' || ops.includes('W'));
      const form = h('tr', { class: 'write-row', hidden: true });
      const input = h('input', { name: 'value', 'aria-label': `New value of ${r.name} (${path})` });
      form.append(
        h(
          'td',
          { colspan: 5 },
          h(
            'form',
            {
              class: 'inline',
              'aria-label': `Write ${path}`,
              onsubmit: (e) => {
                e.preventDefault();
                void act(
                  `Write ${path}`,
                  [{ kind: 'Replace', path: `.${path}`, value: input.value, ...(DM_FORMAT[r.type] ? { format: DM_FORMAT[r.type] } : {}) }],
                  () => setValue(path, input.value, 'written'),
                );
              },
            },
            input,
            h('button', { type: 'submit', class: 'primary' }, 'Send'),
          ),
        ),
      );
      const actions = ctx.canAct
        ? [
            readable && button('Read', path, () => readOne(path)),
            writable &&
              button('Write', path, () => {
                form.hidden = !form.hidden;
                if (!form.hidden) {
                  input.value = value.textContent;
                  input.focus();
                }
              }),
            executable && button('Execute', path, () => act(`Execute ${path}`, [{ kind: 'Exec', path: `.${path}` }])),
            readable && button('Observe', path, () => observe(path, true)),
            readable && button('Cancel', path, () => observe(path, false)),
          ]
        : [];
      return [
        h(
          'tr',
          { 'data-path': path },
          h(
            'th',
            { scope: 'row' },
            h('span', { class: 'muted' }, `${r.id} `),
            r.name,
            r.multiple ? h('span', { class: 'muted' }, ' (multiple)') : '',
          ),
          h('td', {}, r.type === 'none' ? 'executable' : r.type),
          h('td', {}, ops || h('span', { class: 'muted', title: 'the registry does not say' }, '?')),
          h('td', {}, value),
          h('td', { class: 'actions' }, actions),
        ),
        form,
      ];
    });

  const sections = [...objects].map(([o, instances]) => {
    const model = models.get(o);
    return h(
      'section',
      { 'data-object': o, 'aria-labelledby': `object-${o}` },
      h('h2', { id: `object-${o}` }, `${model.name} `, h('span', { class: 'muted' }, `/${o}`)),
      instances.length === 0 ? h('p', { class: 'muted' }, 'No instance registered.') : '',
      instances.map((i) =>
        scrollTable(
          { 'data-instance': `/${o}/${i}` },
          h('caption', {}, `Instance /${o}/${i}`, ctx.canAct ? [' ', button('Read', `/${o}/${i}`, () => readOne(`/${o}/${i}`))] : ''),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Resource', 'Type', 'Access', 'Value', 'Actions'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h('tbody', {}, resourceRows(model, o, i)),
        ),
      ),
    );
  });

  ctx.show(
    h('h1', {}, deviceId),
    h(
      'p',
      {},
      'Behind ',
      h('a', { href: `#/gateways/${gid}/devices` }, gatewayId),
      `, ${entry.Protocol}`,
      entry.Awake !== undefined ? `, ${entry.Awake === 'true' ? 'awake' : 'asleep (requests wait until it wakes)'}` : '',
      entry.LastSeen ? `, last heard ${new Date(entry.LastSeen).toLocaleString()}` : '',
      '.',
    ),
    outcome,
    objects.size === 0 ? h('p', { class: 'muted' }, 'The device is not registered now: no objects to show.') : '',
    sections,
    alertsSection(ctx, deviceId),
  );

  // notifications and Sends come from the gateway (its Generic Alerts), each item's Source the device's inventory node
  const events = new EventSource(`/api/alerts/events?device=${gid}&type=${enc('org.gwmo.lwm2m.*')}`);
  ctx.cleanup.push(() => events.close());
  events.addEventListener('alert', (e) => {
    for (const item of JSON.parse(e.data).items ?? []) {
      if (typeof item.data === 'string' && sourceDevice(item.source) === deviceId) show(senmlValues(item.data), 'notified');
    }
  });

  // current values: one Read of every registered instance, in one job
  const paths = [...objects].flatMap(([o, instances]) => instances.map((i) => `/${o}/${i}`));
  if (paths.length === 0 || !ctx.canAct) return;
  say(`Reading ${paths.length} instances…`);
  try {
    const job = await run(
      deviceId,
      paths.map((p) => ({ kind: 'Get', path: `.${p}` })),
    );
    const failed = (job.results ?? []).filter((r) => r.status !== 200).length;
    for (const r of job.results ?? []) if (r.status === 200 && typeof r.data === 'string') show(senmlValues(r.data), 'read');
    say(failed ? `Read ${paths.length} instances: ${failed} answered with an error.` : `Read ${paths.length} instances.`, failed > 0);
  } catch (err) {
    outcome.replaceWith(errorText(err));
  }
}
