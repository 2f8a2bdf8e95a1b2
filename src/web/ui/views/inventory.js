import { settled } from '../api.js';
import { announce, enc, errorText, h, scrollTable } from '../dom.js';
import { byNatural } from '../sort.js';

const PAGE = 20;
const MODES = { 1: 'transparent', 2: 'proxy', 3: 'adaptation' };

export async function inventoryView(ctx, gatewayId) {
  const gid = enc(gatewayId);
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const select = (name, label, options) =>
    h(
      'label',
      {},
      label,
      h(
        'select',
        { name },
        h('option', { value: '' }, 'any'),
        options.map(([v, t]) => h('option', { value: v, selected: params.get(name) === v }, t)),
      ),
    );
  const text = (name, label) => h('label', {}, label, h('input', { name, type: 'search', value: params.get(name) ?? '' }));
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter devices' },
    select('status', 'Status', [
      ['attached', 'attached'],
      ['detached', 'detached'],
    ]),
    select('mode', 'Mode', [
      ['proxy', 'proxy'],
      ['adaptation', 'adaptation'],
      ['transparent', 'transparent'],
    ]),
    text('protocol', 'Protocol'),
    text('q', 'Text'),
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams([...new FormData(form)].filter(([, v]) => v !== ''));
    location.hash = `#/gateways/${gid}/devices${q.size ? `?${q}` : ''}`;
  });
  const results = h('div', { 'aria-busy': 'true' }, h('p', {}, 'Asking the gateway…'));
  ctx.show(
    h('h1', {}, `Devices behind ${gatewayId}`),
    h(
      'p',
      {},
      h('a', { href: `#/gateways/${gid}/groups` }, 'Groups'),
      ' · ',
      h('a', { href: `#/gateways/${gid}/fanouts/new` }, 'New fanout'),
    ),
    form,
    results,
  );
  const offset = Number(params.get('offset') ?? 0);
  const query = new URLSearchParams([...params].filter(([k]) => k !== 'offset' && k !== 'limit'));
  query.set('limit', String(PAGE));
  query.set('offset', String(offset));
  let inv;
  try {
    inv = await settled(`/api/gateways/${gid}/devices?${query}`);
  } catch (err) {
    results.replaceChildren(errorText(err));
    return;
  }
  // the server pages in natural order too, so page 2 follows page 1
  const devices = Object.values(inv.devices).sort(byNatural((d) => d.DeviceID));
  const page = (to) => {
    const p = new URLSearchParams(params);
    p.set('offset', String(to));
    return `#/gateways/${gid}/devices?${p}`;
  };
  results.removeAttribute('aria-busy');
  results.replaceChildren(
    h(
      'p',
      { id: 'matched' },
      `${inv.matched} of ${inv.summary.Total} devices match`,
      devices.length ? ` (showing ${offset + 1}–${offset + devices.length})` : '',
      '.',
    ),
    scrollTable(
      {},
      h('caption', { class: 'sr-only' }, 'Devices'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Device', 'Model', 'Protocol', 'Mode', 'Status', 'Groups'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        devices.map((d) =>
          h(
            'tr',
            { 'data-device': d.DeviceID },
            h('th', { scope: 'row' }, h('a', { href: `#/gateways/${gid}/devices/${enc(d.DeviceID)}` }, d.DeviceID)),
            h('td', {}, d.Mod ?? ''),
            h('td', {}, d.Protocol ?? ''),
            h('td', {}, MODES[d.Mode] ?? d.Mode ?? ''),
            h('td', { class: d.Status === '1' ? 'attached' : 'detached' }, d.Status === '1' ? 'attached' : 'detached'),
            h('td', {}, d.Groups ?? ''),
          ),
        ),
      ),
    ),
    h(
      'nav',
      { 'aria-label': 'Pages' },
      offset > 0 ? h('a', { href: page(Math.max(0, offset - PAGE)) }, '← Previous') : '',
      ' ',
      offset + PAGE < inv.matched ? h('a', { href: page(offset + PAGE) }, 'Next →') : '',
    ),
  );
  announce(`${inv.matched} devices match`);
}
