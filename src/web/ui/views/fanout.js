// Fanouts: choose targets and commands, start, then watch the job live (server-sent events).
import { api, settled } from '../api.js';
import { announce, enc, errorText, h, scrollTable } from '../dom.js';
import { byNatural, naturalCompare } from '../sort.js';

const STATES = { 10: 'created', 20: 'running', 30: 'completed', 40: 'cancelled', 60: 'failed' };
const KINDS = ['Get', 'Replace', 'Add', 'Delete', 'Exec'];

export async function fanoutFormView(ctx, gatewayId) {
  const gid = enc(gatewayId);
  if (!ctx.canAct) {
    ctx.show(
      h('h1', {}, `New fanout on ${gatewayId}`),
      h('p', { id: 'no-fanout' }, `Your role (${ctx.me.role}) may watch fanouts but not start them.`),
    );
    return;
  }
  const [groups, inv] = await Promise.all([settled(`/api/gateways/${gid}/groups`), settled(`/api/gateways/${gid}/devices`)]);
  const box = (name, value, label) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name, value }), label);
  const groupBoxes = Object.keys(groups)
    .sort(naturalCompare)
    .map((g) => box('group', g, g));
  const deviceBoxes = Object.values(inv.devices)
    .sort(byNatural((d) => d.DeviceID))
    .map((d) => box('device', d.DeviceID, `${d.DeviceID}${d.Status === '1' ? '' : ' (detached)'}`));
  const commands = h('ol', { class: 'commands' });
  const addCommand = () => {
    const n = commands.children.length + 1;
    commands.append(
      h(
        'li',
        {},
        h(
          'div',
          { class: 'inline filters' },
          h(
            'label',
            {},
            `Command ${n}`,
            h(
              'select',
              { name: 'kind' },
              KINDS.map((k) => h('option', { value: k }, k)),
            ),
          ),
          h('label', {}, `Path ${n}`, h('input', { name: 'path', required: true, value: n === 1 ? './DevInfo/Mod' : '', size: 32 })),
          h('label', {}, `Value ${n}`, h('input', { name: 'value' })),
        ),
      ),
    );
  };
  addCommand();
  const error = h('div');
  const name = h('input', { name: 'name', pattern: '[A-Za-z0-9\\-_.]+', placeholder: 'job-…' });
  const form = h(
    'form',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const checked = (boxes) =>
          boxes
            .map((b) => b.querySelector('input'))
            .filter((i) => i.checked)
            .map((i) => i.value);
        const cmds = [...commands.children].map((li) => {
          const kind = li.querySelector('[name=kind]').value;
          const value = li.querySelector('[name=value]').value;
          return { kind, path: li.querySelector('[name=path]').value, ...(value !== '' || kind === 'Replace' ? { value } : {}) };
        });
        try {
          const r = await api('POST', `/api/gateways/${gid}/fanouts?wait=20`, {
            ...(name.value ? { name: name.value } : {}),
            groups: checked(groupBoxes),
            devices: checked(deviceBoxes),
            commands: cmds,
          });
          location.hash = `#/gateways/${gid}/fanouts/${enc(r.name)}`;
        } catch (err) {
          error.replaceChildren(errorText(err));
        }
      },
    },
    h('label', {}, 'Name (optional)', name),
    h('fieldset', {}, h('legend', {}, 'Groups'), groupBoxes.length ? h('div', { class: 'members' }, groupBoxes) : h('p', {}, 'No groups.')),
    h('fieldset', {}, h('legend', {}, 'Devices'), h('div', { class: 'members' }, deviceBoxes)),
    h('fieldset', {}, h('legend', {}, 'Commands'), commands, h('button', { type: 'button', onclick: addCommand }, 'Add a command')),
    h('button', { type: 'submit', class: 'primary', id: 'start-fanout' }, 'Start fanout'),
  );
  ctx.show(h('h1', {}, `New fanout on ${gatewayId}`), error, form);
}

export function fanoutWatchView(ctx, gatewayId, name) {
  const gid = enc(gatewayId);
  const progress = h('progress', { id: 'fanout-progress', max: 1, value: 0, 'aria-labelledby': 'progress-text' });
  const text = h('p', { id: 'progress-text' }, 'Waiting for the gateway…');
  const state = h('p', { id: 'fanout-state' }, 'State: …');
  const histogram = h('ul', { class: 'histogram', id: 'histogram', 'aria-label': 'Devices per DM status' });
  const table = h('tbody');
  const note = h('div');
  ctx.show(
    h('h1', {}, `Fanout ${name}`),
    h('p', {}, 'On ', h('a', { href: `#/gateways/${gid}/devices` }, gatewayId), '. Progress arrives live from the server.'),
    h('section', { 'aria-labelledby': 'h-progress' }, h('h2', { id: 'h-progress' }, 'Progress'), state, progress, text),
    h('section', { 'aria-labelledby': 'h-hist' }, h('h2', { id: 'h-hist' }, 'Results by status'), histogram),
    h(
      'section',
      { 'aria-labelledby': 'h-devices' },
      h('h2', { id: 'h-devices' }, 'Per device'),
      scrollTable(
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Device', 'Status', 'Answers'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        table,
      ),
    ),
    note,
  );

  const render = (job, final) => {
    const p = job.Progress ?? {};
    const total = Number(p.Total ?? 0);
    const done = Number(p.Done ?? 0);
    progress.max = Math.max(total, 1);
    progress.value = done;
    text.textContent = `${done} of ${total} devices done: ${p.Succeeded ?? 0} succeeded, ${p.Failed ?? 0} failed${doubtText(p)}.`;
    state.textContent = `State: ${STATES[job.State] ?? job.State}`;
    state.dataset.state = STATES[job.State] ?? String(job.State);
    const agg = Object.entries(job.Aggregate ?? {});
    const most = Math.max(1, ...agg.map(([, n]) => Number(n)));
    histogram.replaceChildren(
      ...agg.map(([code, n]) =>
        h(
          'li',
          { 'data-status': code },
          h('span', {}, `DM ${code}`),
          h('span', { class: `bar${code >= 300 ? ' bad' : ''}`, style: undefined, 'data-width': n }),
          h('span', {}, n),
        ),
      ),
    );
    // widths set through the CSSOM: the page's CSP allows no inline style attributes
    for (const bar of histogram.querySelectorAll('.bar')) bar.style.width = `${(100 * Number(bar.dataset.width)) / most}%`;
    table.replaceChildren(
      ...Object.values(job.Results ?? {})
        .sort(byNatural((r) => r.DeviceID))
        .map((r) =>
          h(
            'tr',
            { 'data-device': r.DeviceID },
            h('th', { scope: 'row' }, r.DeviceID),
            h('td', {}, r.Status),
            h(
              'td',
              {},
              Object.values(r.Cmd ?? {})
                .map((c) => `${c.Status}${c.Data !== undefined ? `: ${c.Data}` : ''}`)
                .join('; '),
            ),
          ),
        ),
    );
    announce(
      final
        ? `Fanout ${name} ${STATES[job.State] ?? 'ended'}: ${p.Succeeded ?? 0} succeeded, ${p.Failed ?? 0} failed${doubtText(p)}`
        : `${done} of ${total} done`,
    );
  };

  const events = new EventSource(`/api/gateways/${gid}/fanouts/${enc(name)}/events`);
  ctx.cleanup.push(() => events.close());
  events.addEventListener('progress', (e) => render(JSON.parse(e.data), false));
  events.addEventListener('done', (e) => {
    events.close();
    render(JSON.parse(e.data), true);
  });
  events.addEventListener('error', (e) => {
    if (e.data) {
      events.close();
      note.replaceChildren(errorText(new Error(JSON.parse(e.data).error)));
    } else if (events.readyState === EventSource.CLOSED) {
      // the first answer was not a stream (unknown job, role): show the API's message
      api('GET', `/api/gateways/${gid}/fanouts/${enc(name)}?wait=0`).catch((err) => note.replaceChildren(errorText(err)));
    }
  });
}

/** devices whose Add, Exec or Copy went out and never came back: not succeeded, not failed, not retried */
function doubtText(p) {
  return Number(p.InDoubt ?? 0) > 0 ? `, ${p.InDoubt} in doubt (whether it ran is unknown)` : '';
}
