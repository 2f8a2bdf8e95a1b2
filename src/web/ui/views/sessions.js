// Session traces: recent DM sessions and each one's messages as XML (WBXML decoded by the server).
import { api } from '../api.js';
import { enc, h, scrollTable } from '../dom.js';

/** one element per line, indented by depth (the server sends compact XML) */
export function indentXml(xml) {
  if (!xml.startsWith('<')) return xml;
  let depth = 0;
  return xml
    .replace(/>\s*</g, '>\n<')
    .split('\n')
    .map((line) => {
      if (/^<\//.test(line)) depth = Math.max(0, depth - 1);
      const out = `${'  '.repeat(depth)}${line}`;
      if (/^<[^!?/][^>]*[^/]>$/.test(line) && !/<\/[^>]+>$/.test(line)) depth++;
      return out;
    })
    .join('\n');
}

const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '—');

export async function sessionsView(ctx) {
  const { items, total } = await api('GET', '/api/sessions?limit=200');
  ctx.show(
    h('h1', {}, 'Session traces'),
    h(
      'p',
      {},
      `The server keeps the last ${total === 1 ? 'session' : `${total} sessions`} it held with devices and gateways (at most 200).`,
    ),
    items.length === 0
      ? h('p', {}, 'No session yet.')
      : scrollTable(
          {},
          h('caption', { class: 'sr-only' }, 'Recent DM sessions, newest first'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Session', 'Device', 'Started', 'Ended', 'Outcome', 'Messages'].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            items.map((s) =>
              h(
                'tr',
                { 'data-device': s.deviceId },
                h('th', { scope: 'row' }, h('a', { href: `#/sessions/${enc(s.id)}` }, `#${s.id}`)),
                h('td', {}, s.deviceId),
                h('td', {}, time(s.startedAt)),
                h('td', {}, time(s.endedAt)),
                h('td', {}, s.outcome ?? 'open'),
                h('td', {}, s.messages),
              ),
            ),
          ),
        ),
  );
}

export async function traceView(ctx, id) {
  const s = await api('GET', `/api/sessions/${enc(id)}/trace`);
  ctx.show(
    h('h1', {}, `Session #${s.id} with ${s.deviceId}`),
    h(
      'p',
      {},
      `DM SessionID ${s.dmSessionId}, ${time(s.startedAt)} – ${time(s.endedAt)}, outcome ${s.outcome ?? 'open'}; ${s.messages} messages, ${s.bytes} bytes`,
      s.dropped ? `; ${s.dropped} messages not kept (over the size cap)` : '',
      '. Credentials and secrets are masked.',
    ),
    h('p', {}, h('a', { href: '#/sessions' }, 'All sessions')),
    s.trace.map((m) =>
      h(
        'section',
        { class: 'message', 'aria-labelledby': `m${m.n}` },
        h(
          'h2',
          { id: `m${m.n}` },
          `${m.n}. ${m.direction === 'in' ? `${s.deviceId} → server` : `server → ${s.deviceId}`}`,
          h('span', { class: 'muted' }, ` (${m.encoding}, ${m.bytes} bytes)`),
        ),
        h('pre', { class: 'xml', tabindex: 0 }, indentXml(m.xml)),
      ),
    ),
  );
}
