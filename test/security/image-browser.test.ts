// The stored-script attack of issue 15 in real Chromium: an operator uploads an "image" that is an
// HTML page whose script would mark the origin and make its own admin; an admin logged in to the
// dashboard opens its address (and the dashboard frames it). Nothing may run: no marker, no user.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Page } from 'playwright-core';

import { launchChromium, logIn } from '../support/chromium.ts';
import { ADMIN_PASSWORD, startSecuredRig } from '../support/secured-rig.ts';

const T = 15_000;
const PAGE = Buffer.from(`<!doctype html><html><body><script>
localStorage.setItem('pwned', '1');
fetch('/api/users', { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'evil', role: 'admin', password: 'evil-password-1' }) });
</script></body></html>`);
const SVG = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg"><script>localStorage.setItem('pwned', 'svg')</script></svg>`);

/** Navigates to `url`: the browser must take it as a download, never as a page. */
async function open(p: Page, url: string): Promise<string> {
  const download = p.waitForEvent('download', { timeout: T });
  await p.goto(url).catch((err: Error) => assert.match(err.message, /Download is starting|net::ERR_ABORTED/));
  return (await download).suggestedFilename();
}

test('an admin opening an uploaded HTML or SVG image, directly or framed by the dashboard, runs none of its script', async (t) => {
  const { call, base, srv } = await startSecuredRig(t);
  const browser = await launchChromium();
  t.after(() => browser.close());
  const html = (await call('operator', 'POST', '/images?name=notes&version=1', undefined, { bytes: PAGE, type: 'text/html' })).json;
  const svg = (await call('operator', 'POST', '/images?name=logo&version=1', undefined, { bytes: SVG, type: 'image/svg+xml' })).json;
  const users = async () => (await call('admin', 'GET', '/users')).json.items.map((u: { name: string }) => u.name).sort();
  const before = await users();

  const p = await (await browser.newContext({ acceptDownloads: true })).newPage();
  p.setDefaultTimeout(T);
  await logIn(p, base, 'admin', ADMIN_PASSWORD);
  await p.getByRole('navigation', { name: 'Main' }).waitFor();

  assert.equal(await open(p, `${base}/images/${html.id}`), 'notes-1.bin');
  assert.equal(await open(p, `${base}/images/${svg.id}`), 'logo-1.bin');
  const link = `${base}/images/${html.id}?token=${await srv.server.images!.linkToken(html.id, Date.now() + 60_000)}`;
  assert.equal(await open(p, link), 'notes-1.bin', 'the signed link a gateway gets is no page either');

  // the dashboard's own page frames both: each frame turns into a download, never a document
  await p.goto(`${base}/`);
  await p.getByRole('navigation', { name: 'Main' }).waitFor();
  const names: string[] = [];
  const both = new Promise<void>((resolve) => p.on('download', (d) => names.push(d.suggestedFilename()) === 2 && resolve()));
  await p.evaluate(`for (const src of ${JSON.stringify([`/images/${html.id}`, `/images/${svg.id}`])}) {
    const f = document.createElement('iframe'); f.src = src; document.body.append(f);
  }`);
  await both;
  assert.deepEqual(names.sort(), ['logo-1.bin', 'notes-1.bin']);
  for (const frame of p.frames().slice(1))
    assert.equal(await frame.evaluate('document.querySelector("script") === null'), true, `frame ${frame.url()} holds no script`);

  assert.equal(await p.evaluate(() => localStorage.getItem('pwned')), null, 'no script ran on the dashboard origin');
  assert.deepEqual(await users(), before, 'no user was created');
});
