// One device behind a gateway: its DM tree, read node by node (a Get of an interior node answers
// its child names) and a leaf's value replaced, through device jobs (they follow the device); and
// the alerts the device sent the server.
import { settled } from '../api.js';
import { announce, enc, errorText, h } from '../dom.js';
import { alertsSection } from './device-alerts.js';
import { run, statusText } from './device-jobs.js';
import { lwm2mDeviceView } from './lwm2m-device.js';

/** the device's inventory entry at its gateway (Protocol, and Objects for an LwM2M device), or undefined */
async function inventoryEntry(gatewayId, deviceId) {
  try {
    return await settled(`/api/gateways/${enc(gatewayId)}/devices/${enc(deviceId)}`, 2);
  } catch {
    return undefined; // not (or no longer) behind this gateway: its DM tree is still worth a try
  }
}

export async function deviceView(ctx, gatewayId, deviceId) {
  ctx.show(h('h1', {}, deviceId), h('p', { 'aria-busy': 'true' }, `Looking ${deviceId} up at ${gatewayId}…`));
  const entry = await inventoryEntry(gatewayId, deviceId);
  if (typeof entry?.Protocol === 'string' && /^lwm2m/i.test(entry.Protocol)) return lwm2mDeviceView(ctx, gatewayId, deviceId, entry);
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const path = params.get('path') ?? '.';
  const gid = enc(gatewayId);
  const here = (p) => `#/gateways/${gid}/devices/${enc(deviceId)}?path=${enc(p)}`;
  const parts = path.split('/');
  const crumbs = h(
    'nav',
    { 'aria-label': 'Tree path' },
    h(
      'ol',
      { class: 'crumbs' },
      parts.map((p, i) =>
        h(
          'li',
          {},
          i === parts.length - 1
            ? h('span', { 'aria-current': 'location' }, p)
            : h('a', { href: here(parts.slice(0, i + 1).join('/')) }, p),
        ),
      ),
    ),
  );
  const body = h('div', { 'aria-busy': 'true' }, h('p', {}, `Reading ${path} from the device…`));
  ctx.show(
    h('h1', {}, deviceId),
    h(
      'p',
      {},
      'Behind ',
      h('a', { href: `#/gateways/${gid}/devices` }, gatewayId),
      '. Start at ',
      ['./DevInfo', './DevDetail', './DMAcc'].map((root, i) => [i ? ', ' : '', h('a', { href: here(root) }, root)]),
      '.',
    ),
    crumbs,
    body,
    alertsSection(ctx, deviceId),
  );
  let job;
  try {
    job = await run(deviceId, [{ kind: 'Get', path }]);
  } catch (err) {
    body.replaceChildren(errorText(err));
    return;
  }
  body.removeAttribute('aria-busy');
  const r = job.results?.[0];
  const status = r?.status ?? job.status;
  if (status !== 200) {
    body.replaceChildren(h('p', { class: 'error', role: 'alert' }, `The device answered ${statusText(status)}.`));
    return;
  }
  if (r.format === 'node') {
    const children = (r.data ?? '').split('/').filter(Boolean);
    body.replaceChildren(
      h('h2', {}, `${children.length} children`),
      h(
        'ul',
        { class: 'children' },
        children.map((c) => h('li', {}, h('a', { href: here(`${path}/${c}`) }, c))),
      ),
    );
    announce(`${path}: ${children.length} children`);
    return;
  }
  const value = h('output', { id: 'node-value' }, r.data ?? '');
  body.replaceChildren(
    h('h2', {}, 'Value'),
    h('p', {}, value, r.format && r.format !== 'chr' ? h('span', { class: 'muted' }, ` (${r.format})`) : ''),
  );
  announce(`${path} is ${r.data ?? 'empty'}`);
  if (!ctx.canAct) return;
  const input = h('input', { id: 'new-value', value: r.data ?? '' });
  const outcome = h('p', { role: 'status' });
  const form = h(
    'form',
    {
      class: 'inline',
      onsubmit: async (e) => {
        e.preventDefault();
        outcome.textContent = 'Sending…';
        try {
          const done = await run(deviceId, [
            { kind: 'Replace', path, value: input.value, ...(r.format && r.format !== 'node' ? { format: r.format } : {}) },
          ]);
          const code = done.results?.[0]?.status ?? done.status;
          outcome.textContent = code === 200 ? 'Replaced.' : `The device refused: ${statusText(code)}.`;
          outcome.className = code === 200 ? '' : 'error';
          if (code === 200) value.textContent = input.value;
        } catch (err) {
          outcome.textContent = err.message;
          outcome.className = 'error';
        }
      },
    },
    h('label', {}, 'New value', input),
    h('button', { type: 'submit' }, 'Replace'),
  );
  body.append(
    h('h2', {}, 'Change'),
    h('p', { class: 'muted' }, 'The device decides: its ACLs may refuse the change (DevInfo is read-only).'),
    form,
    outcome,
  );
}
