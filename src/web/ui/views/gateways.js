import { api } from '../api.js';
import { enc, h, scrollTable } from '../dom.js';
import { byNatural } from '../sort.js';

/** "n attached, m detached": only a non-zero count of detached devices is painted as a problem */
export function deviceCounts(attached, detached) {
  return [
    h('span', { class: 'attached' }, `${attached ?? '?'} attached`),
    ', ',
    h('span', { class: Number(detached) > 0 ? 'detached' : 'muted' }, `${detached ?? '?'} detached`),
  ];
}

export async function gatewaysView(ctx) {
  const { items } = await api('GET', '/api/gateways');
  const rows = [...items].sort(byNatural((g) => g.deviceId)).map((g) => {
    const counts = h('td', { class: 'muted' }, '…');
    // counts come from each gateway's inventory summary (a DM Get through its session)
    api('GET', `/api/gateways/${enc(g.deviceId)}/devices?limit=1`).then(
      (inv) => {
        const s = inv?.summary ?? {};
        counts.replaceChildren(
          ...(inv?.pending ? ['not answering yet'] : [`${s.Total ?? '?'} devices: `, ...deviceCounts(s.Attached, s.Detached)]),
        );
        counts.className = '';
      },
      (err) => counts.replaceChildren(err.message),
    );
    const id = enc(g.deviceId);
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('a', { href: `#/gateways/${id}/devices` }, g.deviceId)),
      counts,
      h('td', {}, g.lastSeen ? new Date(g.lastSeen).toLocaleString() : 'never'),
      h('td', {}, h('a', { href: `#/gateways/${id}/groups` }, 'Groups'), ' · ', h('a', { href: `#/gateways/${id}/fanouts/new` }, 'Fanout')),
    );
  });
  ctx.show(
    h('h1', {}, 'Gateways'),
    items.length === 0
      ? h('p', {}, 'No gateway has checked in yet.')
      : scrollTable(
          {},
          h('caption', { class: 'sr-only' }, 'Gateways and their attached devices'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Gateway'),
              h('th', { scope: 'col' }, 'Devices'),
              h('th', { scope: 'col' }, 'Last seen'),
              h('th', { scope: 'col' }, 'Manage'),
            ),
          ),
          h('tbody', {}, rows),
        ),
  );
}
