// Distributions: an image a gateway holds, installed by its devices through FUMO, SCOMO or LwM2M
// object 5 (docs/updates.md); the list, a form to start one, and one watched live per device.
import { api } from '../api.js';
import { announce, enc, errorText, h, scrollTable } from '../dom.js';
import { byNatural } from '../sort.js';
import { stateText } from './progress.js';

const OBJECTS = { fumo: 'FUMO', scomo: 'SCOMO', lwm2m: 'LwM2M object 5' };

export async function distributionsView(ctx) {
  const [list, gateways] = await Promise.all([api('GET', '/api/distributions?limit=50'), api('GET', '/api/gateways')]);
  gateways.items.sort(byNatural((g) => g.deviceId));
  const outcome = h('div', { role: 'status' });
  const form = ctx.canAct
    ? (() => {
        const gateway = h(
          'select',
          { name: 'gateway' },
          gateways.items.map((g) => h('option', { value: g.deviceId }, g.deviceId)),
        );
        const image = h('input', { name: 'image', required: true, placeholder: 'fw-2.0' });
        const devices = h('textarea', { name: 'devices', rows: 3, placeholder: 'IMEI:DEMO-000, demo1-lw0' });
        const groups = h('input', { name: 'groups', placeholder: 'meters' });
        const object = h(
          'select',
          { name: 'object' },
          [
            ['auto', 'what each device has'],
            ['fumo', 'FUMO'],
            ['scomo', 'SCOMO'],
          ].map(([v, t]) => h('option', { value: v }, t)),
        );
        const split = (s) =>
          s
            .split(/[\s,]+/)
            .map((x) => x.trim())
            .filter(Boolean);
        return h(
          'form',
          {
            class: 'inline',
            'aria-label': 'Start a distribution',
            onsubmit: async (e) => {
              e.preventDefault();
              try {
                const body = { image: image.value, object: object.value, devices: split(devices.value), groups: split(groups.value) };
                const d = await api('POST', `/api/gateways/${enc(gateway.value)}/distributions?wait=20`, body);
                announce(`Distribution ${d.id} started`);
                location.hash = `#/distributions/${enc(d.id)}`;
              } catch (err) {
                outcome.replaceChildren(errorText(err));
              }
            },
          },
          h('label', {}, 'Gateway', gateway),
          h('label', {}, 'Image (its name there)', image),
          h('label', {}, 'Devices', devices),
          h('label', {}, 'Groups', groups),
          h('label', {}, 'DM object', object),
          h('button', { type: 'submit', class: 'primary' }, 'Distribute'),
        );
      })()
    : '';
  ctx.show(
    h('h1', {}, 'Distributions'),
    h('p', {}, 'An image staged on a gateway (see ', h('a', { href: '#/images' }, 'Images'), '), installed by its devices.'),
    outcome,
    form,
    list.items.length === 0
      ? h('p', {}, 'No distributions yet.')
      : scrollTable(
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Distribution', 'Gateway', 'Image', 'State', 'Started'].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            list.items.map((d) =>
              h(
                'tr',
                { 'data-distribution': d.id },
                h('th', { scope: 'row' }, h('a', { href: `#/distributions/${enc(d.id)}` }, d.id)),
                h('td', {}, d.gatewayId),
                h('td', {}, d.image),
                h('td', {}, d.state),
                h('td', {}, d.createdAt),
              ),
            ),
          ),
        ),
  );
}

export async function distributionView(ctx, id) {
  const state = h('p', { class: 'state' });
  const counts = h('ul', {});
  const table = h('tbody');
  const note = h('div');
  const rows = new Map();
  ctx.show(
    h('h1', {}, `Distribution ${id}`),
    state,
    h('section', { 'aria-labelledby': 'h-results' }, h('h2', { id: 'h-results' }, 'Devices by state and result'), counts),
    h(
      'section',
      { 'aria-labelledby': 'h-dist-devices' },
      h('h2', { id: 'h-dist-devices' }, 'Per device'),
      scrollTable(
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Device', 'Object', 'State', 'Result', 'Meaning'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        table,
      ),
    ),
    note,
  );
  const draw = (d) => {
    state.textContent = `${d.gatewayId}, image ${d.image}: ${d.state}`;
    state.dataset.state = d.state;
    const by = {};
    for (const r of rows.values()) by[r.state] = (by[r.state] ?? 0) + 1;
    const results = {};
    for (const r of rows.values())
      if (r.resultCode !== undefined)
        results[`${r.resultCode} ${r.meaning ?? ''}`] = (results[`${r.resultCode} ${r.meaning ?? ''}`] ?? 0) + 1;
    counts.replaceChildren(
      ...Object.entries(by).map(([s, n]) => h('li', { 'data-state': s }, `${s}: ${n}`)),
      ...Object.entries(results).map(([r, n]) => h('li', { 'data-result': r.split(' ')[0] }, `${r}: ${n}`)),
    );
    table.replaceChildren(
      ...[...rows.values()]
        .sort(byNatural((r) => r.deviceId))
        .map((r) =>
          h(
            'tr',
            { 'data-device': r.deviceId, 'data-state': r.state },
            h('th', { scope: 'row' }, r.deviceId),
            h('td', {}, OBJECTS[r.object] ?? '?'),
            h('td', { class: 'state' }, stateText(r)),
            h('td', {}, r.resultCode ?? ''),
            h('td', {}, r.meaning ?? ''),
          ),
        ),
    );
  };
  let current;
  const events = new EventSource(`/api/distributions/${enc(id)}/events`);
  ctx.cleanup.push(() => events.close());
  const whole = (e) => {
    current = JSON.parse(e.data);
    for (const r of current.devices) rows.set(r.deviceId, r);
    draw(current);
  };
  events.addEventListener('snapshot', whole);
  events.addEventListener('device', (e) => {
    const r = JSON.parse(e.data);
    rows.set(r.deviceId, r);
    if (current) draw(current);
  });
  events.addEventListener('done', (e) => {
    events.close();
    whole(e);
    const s = current.summary.byState;
    announce(`Distribution ${id} done: ${s.succeeded ?? 0} succeeded, ${s.failed ?? 0} failed`);
  });
  events.addEventListener('error', () => {
    if (events.readyState === EventSource.CLOSED && !current)
      api('GET', `/api/distributions/${enc(id)}`).catch((err) => note.replaceChildren(errorText(err)));
  });
}
