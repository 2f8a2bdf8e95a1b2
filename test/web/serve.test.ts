// The dashboard's files over real HTTP: the page and its modules, a strict CSP, clear 404/405, and
// every module the page imports is served (a typo in an import path would break the dashboard).
import assert from 'node:assert/strict';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';

import { dashboardRoutes } from '../../src/web/serve.ts';

let server: Server;
let base = '';

before(async () => {
  const web = dashboardRoutes();
  server = createServer((req, res) => void web(req, res).then((handled) => (handled ? undefined : res.writeHead(418).end())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

test('/ is the page, with a CSP that allows no inline script', async () => {
  const res = await fetch(`${base}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/html/);
  assert.match(res.headers.get('content-security-policy')!, /script-src 'self'/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const html = await res.text();
  assert.match(html, /<main id="main"/);
  assert.match(html, /aria-live="polite"/);
  assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline script');
});

test('every module the page imports is served as JavaScript', async () => {
  const seen = new Set<string>();
  const queue = ['/ui/app.js'];
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const res = await fetch(base + path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type')!, /^text\/javascript/);
    for (const m of (await res.text()).matchAll(/^import .* from '([./][^']+)';$/gm)) queue.push(new URL(m[1]!, base + path).pathname);
  }
  assert.ok(seen.size >= 10, `${seen.size} modules`);
});

test('the favicon and uPlot (its ES module and CSS, as the package ships them) are served under the same CSP', async () => {
  const html = await (await fetch(`${base}/`)).text();
  const icon = /<link rel="icon" href="([^"]+)"/.exec(html)?.[1];
  assert.equal(icon, '/ui/favicon.svg');
  const svg = await fetch(base + icon);
  assert.deepEqual([svg.status, svg.headers.get('content-type')], [200, 'image/svg+xml']);
  const js = await fetch(`${base}/vendor/uplot/uPlot.esm.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type')!, /^text\/javascript/);
  assert.match(js.headers.get('content-security-policy')!, /script-src 'self'/);
  assert.match(await js.text(), /export \{ uPlot as default \}|export default uPlot/);
  const css = await fetch(`${base}/vendor/uplot/uPlot.min.css`);
  assert.deepEqual([css.status, css.headers.get('content-type')], [200, 'text/css; charset=utf-8']);
  assert.equal((await fetch(`${base}/vendor/uplot/package.json`)).status, 404, 'only the files named are served');
  assert.equal((await fetch(`${base}/vendor/pg/lib/index.js`)).status, 404);
});

test('unknown files are 404, changes 405, other paths are left to the API', async () => {
  assert.equal((await fetch(`${base}/ui/nothing.js`)).status, 404);
  // fetch() would resolve the dots itself: send the raw path
  const raw = await new Promise<number>((resolve, reject) =>
    get(
      { host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/ui/../serve.ts' },
      (res) => (res.resume(), resolve(res.statusCode!)),
    ).on('error', reject),
  );
  assert.equal(raw, 418, 'the dots resolve to /serve.ts, which is not a dashboard file');
  const post = await fetch(`${base}/`, { method: 'POST' });
  assert.deepEqual([post.status, post.headers.get('allow')], [405, 'GET, HEAD']);
  assert.equal((await fetch(`${base}/api/me`)).status, 418, "not the dashboard's: the next handler answers");
});
