// Groups on a gateway: create, change membership, delete (GwMO inventory groups).
import { api, settled } from '../api.js';
import { announce, enc, errorText, h, scrollTable } from '../dom.js';
import { byNatural, naturalCompare } from '../sort.js';

// the server's rule for group names (GatewayService.putGroup: a DM node name, at most MAX_NAME
// characters), written for the `v` flag browsers apply to `pattern`: ( ) and - escaped in the class
const NAME_PATTERN = "[A-Za-z0-9_.!~*'\\(\\):@&=+$,\\-]+";
const NAME_MAX = 128;

export const groupsView = (ctx, gatewayId) => draw(ctx, gatewayId);

/** the page; `notice` says what the last change did, on the page and in the live region */
async function draw(ctx, gatewayId, notice) {
  const gid = enc(gatewayId);
  const [groups, inv] = await Promise.all([settled(`/api/gateways/${gid}/groups`), settled(`/api/gateways/${gid}/devices`)]);
  const deviceIds = Object.values(inv.devices)
    .map((d) => d.DeviceID)
    .sort(naturalCompare);
  const outcome = h('div', { id: 'groups-outcome' }, notice ? h('p', { class: 'notice' }, notice) : '');
  const reload = async (message) => {
    await draw(ctx, gatewayId, message);
    announce(message);
  };

  const editor = (name, group) => {
    const members = new Set(Object.values(group?.Members ?? {}));
    const nameInput = h('input', {
      name: 'name',
      required: true,
      pattern: NAME_PATTERN,
      maxlength: NAME_MAX,
      title: "letters, digits and - _ . ! ~ * ' ( ) : @ & = + $ , only",
      value: name ?? '',
      disabled: name !== undefined,
    });
    const description = h('input', { name: 'description', value: group?.Description ?? '' });
    const boxes = deviceIds.map((id) =>
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'member', value: id, checked: members.has(id) }), id),
    );
    return h(
      'form',
      {
        'aria-label': name ? `Members of ${name}` : 'New group',
        onsubmit: async (e) => {
          e.preventDefault();
          const chosen = boxes
            .map((b) => b.querySelector('input'))
            .filter((i) => i.checked)
            .map((i) => i.value);
          const groupName = name ?? nameInput.value;
          try {
            await api('PUT', `/api/gateways/${gid}/groups/${enc(groupName)}?wait=20`, { members: chosen, description: description.value });
            await reload(`Group ${groupName} ${name ? 'saved' : 'created'} with ${chosen.length} member${chosen.length === 1 ? '' : 's'}.`);
          } catch (err) {
            outcome.replaceChildren(errorText(err));
          }
        },
      },
      h(
        'fieldset',
        {},
        h('legend', {}, name ? `Members of ${name}` : 'New group'),
        name ? '' : h('label', {}, 'Name', nameInput),
        h('label', {}, 'Description', description),
        h('fieldset', {}, h('legend', {}, 'Members'), h('div', { class: 'members' }, boxes)),
        h('button', { type: 'submit', class: 'primary' }, name ? 'Save members' : 'Create group'),
      ),
    );
  };

  const entries = Object.entries(groups).sort(byNatural(([n]) => n));
  ctx.show(
    h('h1', {}, `Groups on ${gatewayId}`),
    h(
      'p',
      {},
      h('a', { href: `#/gateways/${gid}/devices` }, 'Devices'),
      ' · ',
      h('a', { href: `#/gateways/${gid}/fanouts/new` }, 'New fanout'),
    ),
    outcome,
    entries.length === 0
      ? h('p', {}, 'No groups yet.')
      : scrollTable(
          {},
          h('caption', { class: 'sr-only' }, 'Groups'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Group', 'Description', 'Members', ''].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            entries.map(([name, g]) =>
              h(
                'tr',
                { 'data-group': name },
                h('th', { scope: 'row' }, name),
                h('td', {}, g.Description ?? ''),
                h(
                  'td',
                  {},
                  Object.values(g.Members ?? {})
                    .sort(naturalCompare)
                    .join(', '),
                ),
                h(
                  'td',
                  {},
                  ctx.canAct
                    ? [
                        h(
                          'button',
                          {
                            type: 'button',
                            onclick: (e) => e.target.closest('tr').after(h('tr', {}, h('td', { colspan: 4 }, editor(name, g)))),
                          },
                          `Edit ${name}`,
                        ),
                        ' ',
                        h(
                          'button',
                          {
                            type: 'button',
                            class: 'danger',
                            onclick: async () => {
                              if (!confirm(`Delete group ${name}?`)) return;
                              try {
                                await api('DELETE', `/api/gateways/${gid}/groups/${enc(name)}?wait=20`);
                                await reload(`Group ${name} deleted.`);
                              } catch (err) {
                                outcome.replaceChildren(errorText(err));
                              }
                            },
                          },
                          `Delete ${name}`,
                        ),
                      ]
                    : '',
                ),
              ),
            ),
          ),
        ),
    ctx.canAct ? [h('h2', {}, 'Create a group'), editor(undefined, undefined)] : '',
  );
}
