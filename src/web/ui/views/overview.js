// The landing page: is the fleet healthy? Devices by gateway, mode and protocol, sessions and
// failures per minute (uPlot charts), fanouts running, gateways that missed their check-in.
// Asked again every 30 s while the page is open.
import uPlot from '/vendor/uplot/uPlot.esm.js';

import { api } from '../api.js';
import { enc, errorText, h, scrollTable } from '../dom.js';
import { byNatural } from '../sort.js';

const REFRESH_MS = 30_000;
const MINUTES = 180;
const COLORS = { ok: '#1a7f37', bad: '#b42318', accent: '#0b5cad' };

const when = (iso) => (iso ? new Date(iso).toLocaleString() : 'never');
const width = (el) => Math.max(280, Math.min(el.clientWidth || 640, 900));

/** a count that is red only when it counts something wrong and is not zero */
const tally = (n, label, bad = false) => h('span', { class: bad && n > 0 ? 'detached' : bad ? 'muted' : 'attached' }, `${n} ${label}`);

/** one horizontal bar per entry, widths set through the CSSOM (the CSP allows no style attributes) */
function bars(label, entries) {
  const most = Math.max(1, ...entries.map(([, n]) => n));
  const list = h(
    'ul',
    { class: 'histogram', 'aria-label': label },
    entries.map(([name, n]) =>
      h('li', { 'data-key': name }, h('span', {}, name), h('span', { class: 'bar', 'data-width': n }), h('span', {}, String(n))),
    ),
  );
  for (const bar of list.querySelectorAll('.bar')) bar.style.width = `${(100 * Number(bar.dataset.width)) / most}%`;
  return list;
}

function gatewayChart(box, gateways) {
  const ids = gateways.map((g) => g.deviceId);
  const x = ids.map((_, i) => i);
  const series = (label, stroke, align) => ({
    label,
    stroke,
    fill: `${stroke}cc`,
    paths: uPlot.paths.bars({ size: [0.35, 60], align }),
    points: { show: false },
  });
  return new uPlot(
    {
      width: width(box),
      height: 220,
      title: 'Devices by gateway',
      scales: {
        x: { time: false, range: [-0.5, Math.max(0.5, ids.length - 0.5)] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      },
      axes: [{ splits: () => x, values: (_u, splits) => splits.map((i) => ids[i] ?? '') }, {}],
      series: [{ label: 'gateway', value: (_u, i) => ids[i] ?? '' }, series('attached', COLORS.ok, -1), series('detached', COLORS.bad, 1)],
    },
    [x, gateways.map((g) => g.devices?.attached ?? null), gateways.map((g) => g.devices?.detached ?? null)],
    box,
  );
}

function sessionChart(box, stats) {
  const start = Date.parse(stats.from) / 1000;
  const x = stats.sessions.map((_, i) => start + i * 60);
  return new uPlot(
    {
      width: width(box),
      height: 220,
      title: `DM sessions per minute, last ${stats.minutes / 60} hours`,
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [
        {},
        { label: 'sessions', stroke: COLORS.accent, width: 1.5 },
        { label: 'failures', stroke: COLORS.bad, width: 1.5, fill: `${COLORS.bad}33` },
      ],
    },
    [x, stats.sessions, stats.failures],
    box,
  );
}

export async function overviewView(ctx) {
  const [o, stats] = await Promise.all([
    api('GET', '/api/overview?wait=5'),
    api('GET', `/api/stats/sessions?minutes=${MINUTES}`).catch(() => undefined),
  ]);
  const gateways = [...o.gateways].sort(byNatural((g) => g.deviceId));
  const d = o.devices;
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const failures = stats ? sum(stats.failures.slice(-60)) : 0;
  const gatewayBox = h('div', {
    class: 'chart',
    id: 'chart-gateways',
    role: 'img',
    'aria-label': `Devices by gateway: ${gateways.map((g) => `${g.deviceId} ${g.devices ? `${g.devices.attached} attached, ${g.devices.detached} detached` : 'not answered'}`).join('; ')}`,
  });
  const sessionBox = stats
    ? h('div', {
        class: 'chart',
        id: 'chart-sessions',
        role: 'img',
        'aria-label': `DM sessions in the last hour: ${sum(stats.sessions.slice(-60))}, of which ${failures} failed`,
      })
    : h('p', { class: 'muted' }, 'This server counts no sessions.');
  const fanouts = gateways.flatMap((g) => g.fanouts.map((f) => ({ ...f, gateway: g.deviceId })));

  ctx.show(
    h('h1', {}, 'Fleet overview'),
    h(
      'ul',
      { class: 'tiles', 'aria-label': 'At a glance' },
      h(
        'li',
        { id: 'tile-gateways' },
        h('strong', {}, String(gateways.length)),
        ' gateways: ',
        tally(o.missedCheckIn.length, 'missed check-in', true),
        o.unanswered.length ? [', ', tally(o.unanswered.length, 'not answering', true)] : '',
      ),
      h(
        'li',
        { id: 'tile-devices' },
        h('strong', {}, String(d.total)),
        ' devices: ',
        tally(d.attached, 'attached'),
        ', ',
        tally(d.detached, 'detached', true),
      ),
      h(
        'li',
        { id: 'tile-sessions' },
        h('strong', {}, stats ? String(sum(stats.sessions.slice(-60))) : '–'),
        ' sessions in the last hour: ',
        tally(failures, 'failed', true),
      ),
      h('li', { id: 'tile-fanouts' }, h('strong', {}, String(o.fanoutsRunning)), ` fanout${o.fanoutsRunning === 1 ? '' : 's'} running`),
    ),
    h(
      'section',
      { 'aria-labelledby': 'h-devices' },
      h('h2', { id: 'h-devices' }, 'Devices'),
      gatewayBox,
      h(
        'div',
        { class: 'split' },
        h('div', {}, h('h3', {}, 'By mode'), bars('Devices by mode', Object.entries(d.byMode))),
        h('div', {}, h('h3', {}, 'By protocol'), bars('Devices by protocol', Object.entries(d.byProtocol).sort(byNatural(([k]) => k)))),
      ),
    ),
    h('section', { 'aria-labelledby': 'h-sessions' }, h('h2', { id: 'h-sessions' }, 'DM sessions'), sessionBox),
    h(
      'section',
      { 'aria-labelledby': 'h-gateways' },
      h('h2', { id: 'h-gateways' }, 'Gateways'),
      gateways.length === 0
        ? h('p', {}, 'No gateway has checked in yet.')
        : scrollTable(
            {},
            h('caption', { class: 'sr-only' }, 'Gateways, their last check-in and what runs on them'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Gateway', 'Last check-in', 'Devices', 'Fanouts running'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              gateways.map((g) =>
                h(
                  'tr',
                  { 'data-gateway': g.deviceId },
                  h('th', { scope: 'row' }, h('a', { href: `#/gateways/${enc(g.deviceId)}/devices` }, g.deviceId)),
                  h('td', { class: g.missedCheckIn ? 'detached' : '' }, when(g.lastSeen), g.missedCheckIn ? ' (missed)' : ''),
                  h(
                    'td',
                    {},
                    g.devices
                      ? [tally(g.devices.attached, 'attached'), ', ', tally(g.devices.detached, 'detached', true)]
                      : h('span', { class: 'muted' }, 'not answering yet'),
                  ),
                  h(
                    'td',
                    {},
                    g.fanouts.length === 0
                      ? '–'
                      : g.fanouts.map((f, i) => [
                          i ? ', ' : '',
                          h('a', { href: `#/gateways/${enc(g.deviceId)}/fanouts/${enc(f.name)}` }, f.name),
                        ]),
                  ),
                ),
              ),
            ),
          ),
    ),
    h(
      'p',
      { class: 'muted' },
      `As of ${when(o.at)}; a gateway silent for more than ${2 * o.checkInSeconds} s has missed its check-in. `,
      fanouts.length ? '' : 'No fanout running.',
    ),
  );

  // the charts need their boxes on the page to know their width; uPlot listens on the window until destroyed
  const charts = [gatewayChart(gatewayBox, gateways), ...(stats ? [sessionChart(sessionBox, stats)] : [])];
  // a phone turned sideways, a window resized: the charts follow their boxes
  const resize = () => {
    for (const c of charts) c.setSize({ width: width(c.root.parentElement), height: 220 });
  };
  window.addEventListener('resize', resize);
  const stop = () => {
    clearTimeout(timer);
    window.removeEventListener('resize', resize);
    for (const c of charts.splice(0)) c.destroy();
  };
  const timer = setTimeout(() => {
    stop();
    overviewView(ctx).catch((err) => ctx.show(h('h1', {}, 'Fleet overview'), errorText(err)));
  }, REFRESH_MS);
  ctx.cleanup.push(stop);
}
