// The dashboard's router: #/path views, each a module rendering into <main>. Who is logged in
// comes from GET /api/me; a 401 anywhere leads back to the login form.
import { api } from './api.js';
import { errorText, h, show } from './dom.js';
import { loginView } from './views/login.js';
import { gatewaysView } from './views/gateways.js';
import { overviewView } from './views/overview.js';
import { inventoryView } from './views/inventory.js';
import { deviceView } from './views/device.js';
import { groupsView } from './views/groups.js';
import { fanoutFormView, fanoutWatchView } from './views/fanout.js';
import { imagesView } from './views/images.js';
import { distributionsView, distributionView } from './views/distributions.js';
import { campaignsView, campaignView } from './views/campaigns.js';
import { sessionsView, traceView } from './views/sessions.js';

const routes = [
  [/^\/overview$/, overviewView],
  [/^\/gateways$/, gatewaysView],
  [/^\/gateways\/([^/]+)\/devices$/, inventoryView],
  [/^\/gateways\/([^/]+)\/devices\/([^/]+)$/, deviceView],
  [/^\/gateways\/([^/]+)\/groups$/, groupsView],
  [/^\/gateways\/([^/]+)\/fanouts\/new$/, fanoutFormView],
  [/^\/gateways\/([^/]+)\/fanouts\/([^/]+)$/, fanoutWatchView],
  [/^\/images$/, imagesView],
  [/^\/distributions$/, distributionsView],
  [/^\/distributions\/([^/]+)$/, distributionView],
  [/^\/campaigns$/, campaignsView],
  [/^\/campaigns\/([^/]+)$/, campaignView],
  [/^\/sessions$/, sessionsView],
  [/^\/sessions\/([^/]+)$/, traceView],
];

const ctx = { me: undefined, cleanup: [] };
// a view still loading when the user moves on must not draw over the newer page
let drawn = 0;

async function whoAmI() {
  try {
    ctx.me = await api('GET', '/api/me');
  } catch {
    ctx.me = undefined;
  }
  const who = document.getElementById('who');
  document.getElementById('nav').hidden = !ctx.me;
  document.getElementById('logout').hidden = !ctx.me;
  who.hidden = !ctx.me;
  who.textContent = ctx.me ? `${ctx.me.user} (${ctx.me.role})` : '';
  ctx.canAct = ctx.me !== undefined && ctx.me.role !== 'viewer';
}

async function route() {
  for (const stop of ctx.cleanup.splice(0)) stop();
  const mine = ++drawn;
  const path = location.hash.replace(/^#/, '') || '/overview';
  if (!ctx.me) await whoAmI();
  if (!ctx.me) {
    loginView(async () => {
      await whoAmI();
      location.hash = path === '/login' ? '#/overview' : `#${path}`;
      await route();
    });
    return;
  }
  if (path === '/login') {
    location.hash = '#/overview';
    return;
  }
  const view = {
    ...ctx,
    show: (...children) => {
      if (mine === drawn) show(...children);
    },
  };
  for (const [re, draw] of routes) {
    const m = re.exec(path.split('?')[0]);
    if (!m) continue;
    try {
      await draw(view, ...m.slice(1).map(decodeURIComponent));
    } catch (err) {
      view.show(h('h1', {}, 'Something went wrong'), errorText(err));
    }
    return;
  }
  show(h('h1', {}, 'Not found'), h('p', {}, 'No page at ', path, '. ', h('a', { href: '#/overview' }, 'Go to the overview')));
}

document.getElementById('logout').addEventListener('click', async () => {
  await api('POST', '/api/logout').catch(() => undefined);
  ctx.me = undefined;
  location.hash = '#/login';
  await whoAmI();
  await route();
});
window.addEventListener('gwmo:logged-out', () => {
  ctx.me = undefined;
});
window.addEventListener('hashchange', () => void route());
void route();
