// A device's recent alerts on its page (Generic Alerts: Type, time, a preview of Data), newest
// first, with new ones added live from the alert stream (GET /api/alerts/events).
import { api } from '../api.js';
import { enc, errorText, h, scrollTable } from '../dom.js';

const SHOWN = 10;
const PREVIEW = 120;

/** Data as a short line: text as it is (XML too), bytes as their base64 */
function preview(item) {
  const data = item?.data;
  if (data === null || data === undefined) return '';
  const text = typeof data === 'string' ? data : `${data.base64} (${data.format ?? 'bin'}, base64)`;
  return text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text;
}

const row = (a) =>
  h(
    'tr',
    { 'data-alert': a.id },
    h('td', {}, h('time', { datetime: a.receivedAt }, new Date(a.receivedAt).toLocaleString())),
    h('td', {}, a.type ?? String(a.code)),
    h('td', { class: 'preview' }, preview(a.items[0])),
  );

export function alertsSection(ctx, deviceId) {
  const rows = h('tbody', {});
  const empty = h('p', { class: 'muted' }, 'No alerts from this device yet.');
  const table = scrollTable(
    { id: 'device-alerts', hidden: true },
    h('caption', {}, `The last ${SHOWN}, newest first; new ones appear as they arrive`),
    h(
      'thead',
      {},
      h('tr', {}, h('th', { scope: 'col' }, 'Received'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Data')),
    ),
    rows,
  );
  const section = h('section', { 'aria-labelledby': 'alerts-heading' }, h('h2', { id: 'alerts-heading' }, 'Alerts'), empty, table);
  const add = (a, live) => {
    if (rows.querySelector(`[data-alert="${CSS.escape(a.id)}"]`)) return;
    if (live) rows.prepend(row(a));
    else rows.append(row(a));
    while (rows.children.length > SHOWN) rows.lastElementChild.remove();
    empty.hidden = true;
    table.querySelector('table').hidden = false;
  };
  // listening before the first page is read: an alert stored in between shows up once either way
  const events = new EventSource(`/api/alerts/events?device=${enc(deviceId)}`);
  ctx.cleanup.push(() => events.close());
  events.addEventListener('alert', (e) => add(JSON.parse(e.data), true));
  api('GET', `/api/alerts?device=${enc(deviceId)}&limit=${SHOWN}`)
    .then((page) => page.items.forEach((a) => add(a, false)))
    .catch((err) => section.append(errorText(err)));
  return section;
}
