// Campaigns: an image rolled out in stages (a canary, then waves) on a gateway's devices or across
// gateways (docs/updates.md, Campaigns); the list, a form to start one, and one followed wave by
// wave (server-sent events) with each gateway's counts, each device's result and its
// pause/resume/cancel buttons.
import { api } from '../api.js';
import { announce, enc, errorText, h, scrollTable } from '../dom.js';
import { byNatural } from '../sort.js';
import { stateText } from './progress.js';

const ACTIVE = ['scheduled', 'running', 'paused'];
const split = (s) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
const head = (cols) =>
  h(
    'thead',
    {},
    h(
      'tr',
      {},
      cols.map((t) => h('th', { scope: 'col' }, t)),
    ),
  );

export async function campaignsView(ctx) {
  const [list, gateways] = await Promise.all([api('GET', '/api/campaigns?limit=50'), api('GET', '/api/gateways')]);
  gateways.items.sort(byNatural((g) => g.deviceId));
  const outcome = h('div', { role: 'status' });
  const input = (name, attrs = {}) => h('input', { name, ...attrs });
  const f = {
    gateway: h('select', { name: 'gateway' }, [
      ...gateways.items.map((g) => h('option', { value: g.deviceId }, g.deviceId)),
      h('option', { value: '*' }, 'Across gateways (targets below)'),
    ]),
    targets: h('textarea', { name: 'targets', rows: 2, placeholder: 'GW:DEMO-1=IMEI:3500010,@meters or GW:DEMO-2=* (one gateway a line)' }),
    image: input('image', { required: true, placeholder: 'fw-2.0' }),
    groups: input('groups', { placeholder: 'meters' }),
    devices: h('textarea', { name: 'devices', rows: 2, placeholder: 'IMEI:3500010, demo1-lw0' }),
    canary: input('canary', { placeholder: '1 or 0.05', value: '1' }),
    waves: input('waves', { placeholder: '2 or 10,100', value: '2' }),
    threshold: input('threshold', { value: '0.1' }),
    concurrency: input('concurrency', { placeholder: '100' }),
  };
  const form = ctx.canAct
    ? h(
        'form',
        {
          class: 'inline',
          'aria-label': 'Start a campaign',
          onsubmit: async (e) => {
            e.preventDefault();
            try {
              const canary = Number(f.canary.value);
              const across = f.gateway.value === '*';
              // a line of targets: a gateway (up to the first "="), its devices, and its @groups
              const targets = f.targets.value
                .split('\n')
                .map((l) => l.trim())
                .filter(Boolean)
                .map((l) => {
                  const items = split(l.slice(l.indexOf('=') + 1));
                  if (items.length === 1 && items[0] === '*') return { gateway: l.slice(0, l.indexOf('=')).trim(), all: true };
                  return {
                    gateway: l.slice(0, l.indexOf('=')).trim(),
                    devices: items.filter((x) => !x.startsWith('@')),
                    groups: items.filter((x) => x.startsWith('@')).map((x) => x.slice(1)),
                  };
                });
              const body = {
                ...(across ? { targets } : { gateway: f.gateway.value, groups: split(f.groups.value) }),
                image: f.image.value,
                devices: split(f.devices.value),
                ...(f.canary.value.trim() ? { canary: canary < 1 ? { share: canary } : { count: canary } } : {}),
                ...(f.waves.value.trim()
                  ? { waves: f.waves.value.includes(',') ? split(f.waves.value).map(Number) : Number(f.waves.value) }
                  : {}),
                failureThreshold: Number(f.threshold.value),
                ...(f.concurrency.value.trim() ? { perGatewayConcurrency: Number(f.concurrency.value) } : {}),
              };
              const c = await api('POST', '/api/campaigns', body);
              announce(`Campaign ${c.id} started`);
              location.hash = `#/campaigns/${enc(c.id)}`;
            } catch (err) {
              outcome.replaceChildren(errorText(err));
            }
          },
        },
        h('label', {}, 'Gateway', f.gateway),
        h('label', {}, 'Image (its name there)', f.image),
        h('label', {}, 'Groups', f.groups),
        h('label', {}, 'Targets across gateways (the image then by its id)', f.targets),
        h('label', {}, 'Devices', f.devices),
        h('label', {}, 'Canary (count or share)', f.canary),
        h('label', {}, 'Waves (count or sizes)', f.waves),
        h('label', {}, 'Failure threshold', f.threshold),
        h('label', {}, 'Per-gateway concurrency', f.concurrency),
        h('button', { type: 'submit', class: 'primary' }, 'Start campaign'),
      )
    : '';
  ctx.show(
    h('h1', {}, 'Campaigns'),
    h(
      'p',
      {},
      'An image staged on a gateway (see ',
      h('a', { href: '#/images' }, 'Images'),
      '), rolled out a canary first, then in waves.',
    ),
    outcome,
    form,
    list.items.length === 0
      ? h('p', {}, 'No campaigns yet.')
      : scrollTable(
          {},
          head(['Campaign', 'Gateway', 'Image', 'Devices', 'State', 'Started']),
          h(
            'tbody',
            {},
            list.items.map((c) =>
              h(
                'tr',
                { 'data-campaign': c.id },
                h('th', { scope: 'row' }, h('a', { href: `#/campaigns/${enc(c.id)}` }, c.id)),
                h('td', {}, c.gatewayId),
                h('td', {}, c.image),
                h('td', {}, c.devices),
                h('td', {}, c.state),
                h('td', {}, c.createdAt),
              ),
            ),
          ),
        ),
  );
}

export async function campaignView(ctx, id) {
  const state = h('p', { class: 'state' });
  const reason = h('p', { class: 'reason' });
  const buttons = h('div', { class: 'actions' });
  const waves = h('tbody');
  const gateways = h('tbody');
  const devices = h('tbody');
  const note = h('div', { role: 'status' });
  ctx.show(
    h('h1', {}, `Campaign ${id}`),
    state,
    reason,
    buttons,
    h('p', {}, h('a', { href: `/api/campaigns/${enc(id)}/report?format=csv`, download: `${id}.csv` }, 'Report (CSV)')),
    note,
    h(
      'section',
      { 'aria-labelledby': 'h-waves' },
      h('h2', { id: 'h-waves' }, 'Waves'),
      scrollTable({}, head(['Wave', 'State', 'Devices', 'Succeeded', 'Failed', 'Failed share', 'Results']), waves),
    ),
    h(
      'section',
      { 'aria-labelledby': 'h-camp-gateways' },
      h('h2', { id: 'h-camp-gateways' }, 'Per gateway'),
      scrollTable({}, head(['Gateway', 'Devices', 'Succeeded', 'Failed', 'Results']), gateways),
    ),
    h(
      'section',
      { 'aria-labelledby': 'h-camp-devices' },
      h('h2', { id: 'h-camp-devices' }, 'Per device'),
      scrollTable({}, head(['Device', 'Wave', 'Object', 'State', 'Result', 'Meaning']), devices),
    ),
  );
  const names = (c) => new Map(c.waves.map((w) => [w.wave, w.name]));
  const draw = (c) => {
    const where = c.gateways ? `${c.gateways.length} gateway${c.gateways.length === 1 ? '' : 's'}` : c.gatewayId;
    state.textContent = `${where}, image ${c.image}: ${c.state}`;
    state.dataset.state = c.state;
    reason.textContent = c.reason ?? '';
    const act = (action, label) =>
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            try {
              await api('POST', `/api/campaigns/${enc(id)}/${action}`);
              current = await api('GET', `/api/campaigns/${enc(id)}`);
              shown(current);
              announce(`Campaign ${id}: ${action}`);
            } catch (err) {
              note.replaceChildren(errorText(err));
            }
          },
        },
        label,
      );
    buttons.replaceChildren(
      ...(ctx.canAct
        ? [
            ['running', 'scheduled'].includes(c.state) ? act('pause', 'Pause') : '',
            ['paused', 'halted', 'expired'].includes(c.state) ? act('resume', 'Resume') : '',
            [...ACTIVE, 'halted'].includes(c.state) ? act('cancel', 'Cancel') : '',
          ]
        : []),
    );
    waves.replaceChildren(
      ...c.waves.map((w) =>
        h(
          'tr',
          { 'data-wave': w.name, 'data-state': w.state },
          h('th', { scope: 'row' }, w.name),
          h('td', { class: 'state' }, w.state),
          h('td', {}, w.devices),
          h('td', {}, w.succeeded),
          h('td', {}, w.failed),
          h('td', {}, `${Math.round(w.failureRatio * 100)}%`),
          h(
            'td',
            {},
            Object.entries(w.byResult)
              .map(([k, n]) => `${k}: ${n}`)
              .join('; '),
          ),
        ),
      ),
    );
    const results = (byResult) =>
      Object.entries(byResult)
        .map(([k, n]) => `${k}: ${n}`)
        .join('; ');
    gateways.replaceChildren(
      ...(c.byGateway ?? []).map((g) =>
        h(
          'tr',
          { 'data-gateway': g.gateway },
          h('th', { scope: 'row' }, g.gateway),
          h('td', {}, g.devices),
          h('td', {}, g.succeeded),
          h('td', {}, g.failed),
          h('td', {}, results(g.byResult)),
        ),
      ),
    );
    const wn = names(c);
    devices.replaceChildren(
      ...c.results.map((r) =>
        h(
          'tr',
          { 'data-device': r.deviceId, 'data-state': r.state },
          h('th', { scope: 'row' }, r.deviceId),
          h('td', {}, wn.get(r.wave) ?? r.wave),
          h('td', {}, r.object ?? ''),
          h('td', { class: 'state' }, stateText(r)),
          h('td', {}, r.resultCode ?? ''),
          h('td', {}, r.meaning ?? ''),
        ),
      ),
    );
  };
  // followed as server-sent events: the snapshot, the campaign at each change, each device's row
  // as its batch reads it; `done` (done or cancelled) ends the stream
  let current;
  let last = '';
  const shown = (c) => {
    draw(c);
    if (c.state !== last && !ACTIVE.includes(c.state)) announce(`Campaign ${id} ${c.state}${c.reason ? `: ${c.reason}` : ''}`);
    last = c.state;
  };
  const events = new EventSource(`/api/campaigns/${enc(id)}/events`);
  ctx.cleanup.push(() => events.close());
  const on = (name, f) => events.addEventListener(name, (e) => f(JSON.parse(e.data)));
  on('snapshot', (c) => {
    current = c;
    shown(c);
  });
  on('campaign', (c) => {
    current = { ...c, results: current?.results ?? [] };
    shown(current);
  });
  on('device', (row) => {
    if (!current) return;
    const fields = ['object', 'status', 'resultCode', 'meaning', 'bytes', 'size'];
    current = {
      ...current,
      results: current.results.map((r) =>
        r.deviceId === row.deviceId ? { ...r, state: row.state, ...Object.fromEntries(fields.map((k) => [k, row[k]])) } : r,
      ),
    };
    draw(current);
  });
  on('done', (c) => {
    events.close();
    current = c;
    shown(c);
  });
  events.onerror = () => {
    // the server gone for good (the browser retries a dropped stream by itself)
    if (events.readyState === EventSource.CLOSED && !current) note.replaceChildren(errorText(new Error('the campaign cannot be followed')));
  };
}
