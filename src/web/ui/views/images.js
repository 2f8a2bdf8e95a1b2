// Images: upload to the server, stage on a gateway (it fetches and keeps it), each gateway's store.
import { api, settled } from '../api.js';
import { announce, enc, errorText, h, scrollTable } from '../dom.js';
import { byNatural } from '../sort.js';

// ./GwMO/Images/<x>/State (ImageState in src/store/gateway.ts)
const STATES = { 10: 'idle', 20: 'downloading', 30: 'stored', 40: 'failed', 50: 'not stored' };
const SETTLED = new Set(['30', '40', '50']);
const REFRESH_MS = 1000;

/** one gateway's store as a table */
function storeTable(held) {
  const rows = Object.entries(held).sort(byNatural(([name]) => name));
  return rows.length === 0
    ? h('p', {}, 'No images stored.')
    : scrollTable(
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Image', 'Version', 'State', 'Bytes', 'Local URL'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          rows.map(([name, i]) =>
            h(
              'tr',
              { 'data-image': name, 'data-state': STATES[i.State] ?? i.State ?? '' },
              h('th', { scope: 'row' }, name),
              h('td', {}, i.Version ?? ''),
              h('td', { class: 'state' }, STATES[i.State] ?? i.State ?? ''),
              h('td', {}, `${i.BytesReceived ?? 0} / ${i.Size ?? '?'}`),
              h('td', {}, i.LocalURL ?? ''),
            ),
          ),
        ),
      );
}

/** the latest watch of each section: an older one stops, so a section is polled by one loop at a time */
const watches = new WeakMap();

/**
 * Shows what a gateway stores, and asks again every second while an image is downloading, or until
 * `staged` (just staged there) has settled: stored, failed or not stored. Stops when the page changes.
 */
async function showStore(section, gatewayId, staged) {
  const me = {};
  watches.set(section, me);
  for (let tries = 0; ; tries++) {
    let held;
    try {
      held = await settled(`/api/gateways/${enc(gatewayId)}/images`);
    } catch (err) {
      if (watches.get(section) === me) section.replaceChildren(h('h3', {}, gatewayId), errorText(err));
      return;
    }
    if (watches.get(section) !== me) return;
    section.replaceChildren(h('h3', {}, gatewayId), storeTable(held));
    const states = Object.values(held).map((i) => String(i.State));
    const waiting = states.includes('20') || (staged !== undefined && tries < 30 && !SETTLED.has(String(held[staged]?.State)));
    if (!waiting) {
      if (staged !== undefined) announce(`${staged} on ${gatewayId}: ${STATES[held[staged]?.State] ?? 'not there'}`);
      return;
    }
    await new Promise((r) => setTimeout(r, REFRESH_MS));
    if (!section.isConnected || watches.get(section) !== me) return;
  }
}

export async function imagesView(ctx) {
  const [images, gateways] = await Promise.all([
    api('GET', '/api/images').catch((err) => ({ items: [], error: err.message })),
    api('GET', '/api/gateways'),
  ]);
  const outcome = h('div', { role: 'status' });
  const reload = () => imagesView(ctx);
  gateways.items.sort(byNatural((g) => g.deviceId));
  images.items.sort(byNatural((i) => `${i.name} ${i.version}`));
  const sections = new Map(
    gateways.items.map((g) => [
      g.deviceId,
      h('section', { 'data-gateway': g.deviceId }, h('h3', {}, g.deviceId), h('p', { class: 'muted' }, 'Asking the gateway…')),
    ]),
  );
  for (const [id, section] of sections) void showStore(section, id);
  const stores = h('div', {}, [...sections.values()]);

  const upload = ctx.canAct
    ? (() => {
        const file = h('input', { type: 'file', name: 'file', required: true });
        const name = h('input', { name: 'name', required: true });
        const version = h('input', { name: 'version' });
        return h(
          'form',
          {
            class: 'inline',
            'aria-label': 'Upload an image',
            onsubmit: async (e) => {
              e.preventDefault();
              try {
                const f = file.files[0];
                const q = new URLSearchParams({ name: name.value, ...(version.value ? { version: version.value } : {}) });
                await api('POST', `/api/images?${q}`, f, { 'content-type': f.type || 'application/octet-stream' });
                announce(`Image ${name.value} uploaded`);
                await reload();
              } catch (err) {
                outcome.replaceChildren(errorText(err));
              }
            },
          },
          h('label', {}, 'File', file),
          h('label', {}, 'Name', name),
          h('label', {}, 'Version', version),
          h('button', { type: 'submit', class: 'primary' }, 'Upload'),
        );
      })()
    : '';

  const stage =
    ctx.canAct && images.items.length > 0
      ? (() => {
          const image = h(
            'select',
            { name: 'image' },
            images.items.map((i) => h('option', { value: i.id }, `${i.name} ${i.version}`)),
          );
          const gateway = h(
            'select',
            { name: 'gateway' },
            gateways.items.map((g) => h('option', { value: g.deviceId }, g.deviceId)),
          );
          return h(
            'form',
            {
              class: 'inline',
              'aria-label': 'Stage an image on a gateway',
              onsubmit: async (e) => {
                e.preventDefault();
                try {
                  const r = await api('POST', `/api/gateways/${enc(gateway.value)}/images?wait=20`, { image: image.value });
                  outcome.replaceChildren(
                    h('p', {}, `Staging ${r.name} on ${gateway.value}${r.started ? '' : ' (queued: the gateway has not answered yet)'}.`),
                  );
                  announce(`Staging ${r.name}`);
                  const section = sections.get(gateway.value);
                  if (section) void showStore(section, gateway.value, r.name);
                } catch (err) {
                  outcome.replaceChildren(errorText(err));
                }
              },
            },
            h('label', {}, 'Image', image),
            h('label', {}, 'Gateway', gateway),
            h('button', { type: 'submit', class: 'primary' }, 'Stage'),
          );
        })()
      : '';

  ctx.show(
    h('h1', {}, 'Images'),
    outcome,
    h('h2', {}, 'On the server'),
    images.error
      ? h('p', { class: 'error' }, images.error)
      : images.items.length === 0
        ? h('p', {}, 'No images uploaded.')
        : scrollTable(
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Name', 'Version', 'Size', 'SHA-256'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              images.items.map((i) =>
                h(
                  'tr',
                  {},
                  h('th', { scope: 'row' }, i.name),
                  h('td', {}, i.version),
                  h('td', {}, `${i.size} bytes`),
                  h('td', {}, h('code', {}, i.id)),
                ),
              ),
            ),
          ),
    upload,
    ctx.canAct ? [h('h2', {}, 'Stage on a gateway'), stage || h('p', {}, 'Upload an image first.')] : '',
    h('h2', {}, 'Stored on the gateways'),
    stores,
  );
}
