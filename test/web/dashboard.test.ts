// The dashboard in real Chromium against a running `gwmo demo`: log in (and fail to), the fleet
// overview, gateways and their devices attached or detached, a group, a fanout watched live to its
// end, the device tree, a session trace, and a viewer who cannot start anything. Every page is
// shot at desktop and phone width into test-artifacts/; any console error, page error, failed
// request or HTTP error the test did not expect fails the tour.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { launchChromium, logIn as logInAt } from '../support/chromium.ts';
import { md5Cred, pkg1, postDm } from '../support/dm-raw.ts';
import { AUTH, GwmoProcess } from '../support/process.ts';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
const ADMIN_PASSWORD = 'web-test-admin-password';
const T = 15_000; // every wait on the page: generous for a loaded 2-core machine

let demo: GwmoProcess;
let dir = '';
let base = '';
let statusPages: string[] = [];
let browser: Browser;

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...AUTH, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
};

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = await mkdtemp(join(tmpdir(), 'gwmo-web-'));
  demo = new GwmoProcess(['demo', '--port', '0', '--dm', '3', '--lwm2m', '1', '--move-every', '3600', '--data-dir', dir], [], {
    GWMO_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
  const [ready] = await Promise.all([demo.waitFor((l) => l.event === 'demo.ready', 30_000), launchChromium().then((b) => (browser = b))]);
  base = String(ready['api']).replace(/\/api$/, '');
  statusPages = ready['statusPages'] as string[];
  // gateway 2 counts a device silent for 1 s as detached: its DM devices do not check in on their own
  assert.equal((await api('PUT', '/api/gateways/GW%3ADEMO-2/config?wait=20', { DetachTimeout: 1 })).status, 200);
  assert.equal((await api('POST', '/api/users', { name: 'watcher', role: 'viewer', password: 'watcher-password' })).status, 201);
});

after(async () => {
  await browser?.close();
  if (demo) assert.equal(await demo.stop(), 0);
  await rm(dir, { recursive: true, force: true });
});

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
// answers a test provokes on purpose: who-am-I before logging in, a wrong password, a viewer's refused change
const EXPECTED = [/^401 GET .*\/api\/me$/, /^401 POST .*\/api\/login$/, /^403 POST .*\/api\/gateways\/GW%3ADEMO-1\/fanouts$/];
const problems: string[] = [];

/** records what a user would see as breakage: console errors, uncaught errors, failed requests, HTTP errors */
function watch(p: Page): void {
  p.on('console', (m) => {
    // a failed resource is also a response ≥ 400, judged below against EXPECTED
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()} (${p.url()})`);
  });
  p.on('pageerror', (e) => problems.push(`page error: ${e.message} (${p.url()})`));
  // ERR_ABORTED: the page moved on and the browser dropped what it no longer needs (an event stream)
  p.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  p.on('response', (r) => {
    const what = `${r.status()} ${r.request().method()} ${r.url()}`;
    if (r.status() >= 400 && !EXPECTED.some((re) => re.test(what))) problems.push(`HTTP ${what}`);
  });
}

async function page(): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP });
  const p = await context.newPage();
  p.setDefaultTimeout(T);
  watch(p);
  return p;
}

const logIn = (p: Page, name: string, password: string): Promise<void> => logInAt(p, base, name, password);

/** desktop and phone screenshots; at phone width the page itself must not scroll sideways (wide tables scroll in their box) */
async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
  await p.setViewportSize(PHONE);
  try {
    const [scroll, inner] = await p.evaluate<[number, number]>('[document.documentElement.scrollWidth, window.innerWidth]');
    assert.ok(scroll <= inner, `${name}: the page is ${scroll} px wide on a ${inner} px screen`);
    await p.screenshot({ path: join(ARTIFACTS, `dashboard-${name}-phone.png`), fullPage: true });
  } finally {
    await p.setViewportSize(DESKTOP);
  }
}

let admin: Page;

test('a bad login shows an error and no dashboard', async () => {
  const p = await page();
  await logIn(p, 'admin', 'not-the-password');
  await p.getByRole('alert').filter({ hasText: 'Wrong name or password.' }).waitFor();
  assert.equal(await p.getByRole('navigation', { name: 'Main' }).isVisible(), false);
  await shot(p, 'bad-login');
  await p.context().close();
});

test('the admin logs in on the fleet overview: counts, charts, check-ins, one click from the gateways', async () => {
  admin = await page();
  await logIn(admin, 'admin', ADMIN_PASSWORD);
  await admin.getByRole('heading', { level: 1, name: 'Fleet overview' }).waitFor();
  const row = admin.locator('tr[data-gateway="GW:DEMO-1"]');
  await row.getByText('6 attached').waitFor();
  // nothing detached behind gateway 1: a zero is not painted as a problem
  assert.equal(await row.getByText('0 detached').getAttribute('class'), 'muted');
  assert.match(await admin.locator('#tile-gateways').innerText(), /^2\s+gateways: 0 missed check-in/);
  await admin.locator('#chart-gateways canvas').waitFor();
  await admin.locator('#chart-sessions canvas').waitFor();
  assert.match(
    (await admin.locator('#chart-sessions').getAttribute('aria-label')) ?? '',
    /^DM sessions in the last hour: [1-9]\d*, of which \d+ failed$/,
  );
  assert.equal(
    (await admin.getByRole('list', { name: 'Devices by mode' }).locator('li[data-key="proxy"] span').last().innerText().then(Number)) >= 3,
    true,
  );
  await shot(admin, 'overview');
});

test('the admin sees the gateways with their attached devices', async () => {
  await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gateways' }).click();
  await admin.getByRole('heading', { level: 1, name: 'Gateways' }).waitFor();
  const row = admin.getByRole('row').filter({ hasText: 'GW:DEMO-1' });
  await row.getByText('6 attached').waitFor();
  assert.match(await admin.locator('#who').innerText(), /admin \(admin\)/);
  await shot(admin, 'gateways');
});

test('the inventory shows attached and detached devices and filters them', async () => {
  // wait until gateway 2 has swept its silent devices (the API answers from the gateway's MO)
  const deadline = Date.now() + T;
  while ((await api('GET', '/api/gateways/GW%3ADEMO-2/devices?status=detached&wait=20')).json?.matched < 3)
    assert.ok(Date.now() < deadline, 'gateway 2 never showed detached devices');
  await admin.goto(`${base}/#/gateways/GW%3ADEMO-2/devices`);
  const table = admin.getByRole('table');
  await table.getByRole('cell', { name: 'detached' }).first().waitFor();
  assert.match(await admin.locator('#matched').innerText(), /of 4 devices match/);
  await shot(admin, 'inventory');
  await admin.getByLabel('Status').selectOption('detached');
  await admin.getByLabel('Mode').selectOption('proxy');
  await admin.getByRole('button', { name: 'Filter' }).click();
  await admin.locator('#matched').filter({ hasText: '3 of 4 devices match' }).waitFor();
  assert.deepEqual(await table.locator('tbody td.attached').count(), 0);
  await admin.goto(`${base}/#/gateways/GW%3ADEMO-1/devices?status=attached&protocol=lwm2m`);
  await admin.locator('#matched').filter({ hasText: '1 of 6 devices match' }).waitFor();
  await table.getByRole('cell', { name: 'attached', exact: true }).waitFor();
});

test("a group name is checked in the browser by the server's rule, and a group is created with two members, visibly", async () => {
  await admin.goto(`${base}/#/gateways/GW%3ADEMO-1/groups`);
  const form = admin.getByRole('form', { name: 'New group' });
  const name = form.getByLabel('Name');
  const mismatch = () => name.evaluate((e) => (e as unknown as { validity: { patternMismatch: boolean } }).validity.patternMismatch);
  for (const bad of ['two words', 'slash/no', 'ünï']) {
    await name.fill(bad);
    assert.equal(await mismatch(), true, bad);
  }
  await name.fill("odd(chars)-_.!~*':@&=+$,");
  assert.equal(await mismatch(), false, 'every character the server allows');
  await form.getByLabel('Name').fill('meters');
  await form.getByLabel('Description').fill('two DM devices');
  await form.getByLabel('IMEI:3500010').check();
  await form.getByLabel('IMEI:3500011').check();
  await form.getByRole('button', { name: 'Create group' }).click();
  const row = admin.locator('tr[data-group="meters"]');
  await row.getByText('IMEI:3500010, IMEI:3500011').waitFor();
  await admin.locator('#groups-outcome .notice').filter({ hasText: 'Group meters created with 2 members.' }).waitFor();
  assert.equal(await admin.locator('#live').innerText(), 'Group meters created with 2 members.');
  // device ids in natural order
  const ids = await admin
    .getByRole('form', { name: 'New group' })
    .locator('input[name=member]')
    .evaluateAll((all) => all.map((e) => (e as unknown as { value: string }).value));
  assert.deepEqual(ids, [...ids].sort(new Intl.Collator('en', { numeric: true }).compare));
  await shot(admin, 'groups');
});

test('a fanout on the group is started and watched live to its aggregated result', async () => {
  await admin.goto(`${base}/#/gateways/GW%3ADEMO-1/fanouts/new`);
  await admin.getByLabel('Name (optional)').fill('models');
  await admin.getByLabel('meters').check();
  await admin.getByLabel('demo1-lw0').check();
  await admin.getByLabel('Path 1').fill('./DevInfo/Mod');
  await shot(admin, 'fanout-form');
  await admin.getByRole('button', { name: 'Start fanout' }).click();
  await admin.getByRole('heading', { level: 1, name: 'Fanout models' }).waitFor();
  await admin.locator('#fanout-state[data-state="completed"]').waitFor();
  const progress = admin.locator('#fanout-progress');
  assert.deepEqual(
    [
      await progress.evaluate((e) => (e as unknown as { value: number }).value),
      await progress.evaluate((e) => (e as unknown as { max: number }).max),
    ],
    [3, 3],
  );
  assert.match(await admin.locator('#progress-text').innerText(), /3 of 3 devices done: 3 succeeded, 0 failed/);
  assert.equal(
    await admin
      .locator('#histogram li[data-status="200"]')
      .innerText()
      .then((t) => t.replace(/\s+/g, ' ').trim()),
    'DM 200 3',
  );
  await admin.locator('tr[data-device="IMEI:3500011"]').getByText('200: fleet').waitFor();
  assert.match(await admin.locator('#live').innerText(), /Fanout models completed: 3 succeeded, 0 failed/);
  await shot(admin, 'fanout');
});

test('an image uploaded and staged from the images page reaches "stored" on the gateway', async () => {
  await admin.goto(`${base}/#/images`);
  await admin.getByRole('heading', { level: 1, name: 'Images' }).waitFor();
  const upload = admin.getByRole('form', { name: 'Upload an image' });
  await upload
    .getByLabel('File')
    .setInputFiles({ name: 'webfw.bin', mimeType: 'application/octet-stream', buffer: randomBytes(64 * 1024) });
  await upload.getByLabel('Name').fill('webfw');
  await upload.getByLabel('Version').fill('1.0');
  await upload.getByRole('button', { name: 'Upload' }).click();
  await admin.getByRole('rowheader', { name: 'webfw' }).waitFor();
  const stage = admin.getByRole('form', { name: 'Stage an image on a gateway' });
  await stage.getByLabel('Image').selectOption({ label: 'webfw 1.0' });
  await stage.getByLabel('Gateway').selectOption('GW:DEMO-1');
  await stage.getByRole('button', { name: 'Stage' }).click();
  // the page asks the gateway again until the image has settled
  const row = admin.locator('section[data-gateway="GW:DEMO-1"] tr[data-image="webfw-1.0"]');
  await row.locator('td.state', { hasText: 'stored' }).waitFor();
  assert.equal(await row.locator('td').nth(2).innerText(), '65536 / 65536');
  await admin.locator('#live').filter({ hasText: 'webfw-1.0 on GW:DEMO-1: stored' }).waitFor();
  await shot(admin, 'images');
});

test("a distribution of the staged image is started from its page and watched live to each device's result", async () => {
  await admin.getByRole('link', { name: 'Distributions' }).click();
  await admin.getByRole('heading', { level: 1, name: 'Distributions' }).waitFor();
  const form = admin.getByRole('form', { name: 'Start a distribution' });
  await form.getByLabel('Gateway').selectOption('GW:DEMO-1');
  await form.getByLabel('Image (its name there)').fill('webfw-1.0');
  await form.getByLabel('Devices').fill('IMEI:3500010, demo1-lw0');
  await form.getByRole('button', { name: 'Distribute' }).click();
  await admin.getByRole('heading', { level: 1, name: /^Distribution dist-/ }).waitFor();
  // the DM device is asked what its tree has (FUMO), the LwM2M device gets object 5; results arrive live
  await admin.locator('p.state[data-state="done"]').waitFor({ timeout: 60_000 });
  const cells = (id: string) => admin.locator(`tr[data-device="${id}"] td`).allInnerTexts();
  assert.deepEqual(await cells('IMEI:3500010'), ['FUMO', 'succeeded', '200', 'Successful']);
  assert.deepEqual(await cells('demo1-lw0'), ['LwM2M object 5', 'succeeded', '1', 'Firmware updated successfully']);
  await admin.locator('#live').filter({ hasText: 'done: 2 succeeded, 0 failed' }).waitFor();
  await shot(admin, 'distribution');
  await admin.getByRole('link', { name: 'Distributions' }).click();
  await admin.locator('tr[data-distribution] td', { hasText: 'webfw-1.0' }).first().waitFor();
});

test("a campaign on a group is started from its page, canary then waves, followed to each device's result", async () => {
  await admin.getByRole('link', { name: 'Campaigns' }).click();
  await admin.getByRole('heading', { level: 1, name: 'Campaigns' }).waitFor();
  const form = admin.getByRole('form', { name: 'Start a campaign' });
  await form.getByLabel(/^Gateway/).selectOption('GW:DEMO-1');
  await form.getByLabel('Image (its name there)').fill('webfw-1.0');
  await form.getByLabel('Groups').fill('meters');
  await form.getByLabel('Devices').fill('demo1-lw0');
  await form.getByLabel('Canary (count or share)').fill('1');
  await form.getByLabel('Waves (count or sizes)').fill('2');
  // the page follows the campaign by its event stream, not by reading it again and again
  const reads: string[] = [];
  const onRequest = (q: { method(): string; url(): string }) => {
    if (/\/api\/campaigns\/camp-[^/?]+(\/events)?$/.test(q.url())) reads.push(new URL(q.url()).pathname.replace(/camp-[^/]+/, 'ID'));
  };
  admin.on('request', onRequest);
  await form.getByRole('button', { name: 'Start campaign' }).click();
  await admin.getByRole('heading', { level: 1, name: /^Campaign camp-/ }).waitFor();
  await admin.locator('p.state[data-state="done"]').waitFor({ timeout: 60_000 });
  admin.off('request', onRequest);
  assert.deepEqual(reads, ['/api/campaigns/ID/events']);
  const waves = await admin
    .locator('tr[data-wave]')
    .evaluateAll((rows) =>
      rows.map((r) => [
        (r as unknown as { dataset: { wave: string; state: string } }).dataset.wave,
        (r as unknown as { dataset: { state: string } }).dataset.state,
      ]),
    );
  assert.deepEqual(waves, [
    ['canary', 'done'],
    ['wave 1', 'done'],
    ['wave 2', 'done'],
  ]);
  assert.equal(await admin.locator('tr[data-device][data-state="succeeded"]').count(), 3);
  assert.deepEqual(await admin.locator('tr[data-device="demo1-lw0"] td').allInnerTexts(), [
    'canary',
    'lwm2m',
    'succeeded',
    '1',
    'Firmware updated successfully',
  ]);
  assert.deepEqual(await admin.locator('tr[data-gateway="GW:DEMO-1"] td').allInnerTexts(), [
    '3',
    '3',
    '0',
    '1 Firmware updated successfully: 1; 200 Successful: 2',
  ]);
  assert.match(
    (await admin.getByRole('link', { name: 'Report (CSV)' }).getAttribute('href')) ?? '',
    /^\/api\/campaigns\/camp-.*\/report\?format=csv$/,
  );
  await admin
    .locator('#live')
    .filter({ hasText: /^Campaign camp-\S+ done$/ })
    .waitFor();
  await shot(admin, 'campaign');
  await admin.getByRole('link', { name: 'Campaigns' }).click();
  await admin.locator('tr[data-campaign] td', { hasText: 'webfw-1.0' }).first().waitFor();
});

test('a campaign across gateways is started from the form by the image id and a line of targets', async () => {
  const image = (await api('GET', '/api/images')).json.items.find((i: any) => i.name === 'webfw');
  await admin.getByRole('link', { name: 'Campaigns' }).click();
  const form = admin.getByRole('form', { name: 'Start a campaign' });
  await form.getByLabel(/^Gateway/).selectOption('*');
  await form.getByLabel('Image (its name there)').fill(image.id);
  await form.getByLabel(/^Targets across gateways/).fill('GW:DEMO-1=IMEI:3500010');
  await form.getByRole('button', { name: 'Start campaign' }).click();
  await admin.getByRole('heading', { level: 1, name: /^Campaign camp-/ }).waitFor();
  await admin.locator('p.state[data-state="done"]').waitFor({ timeout: 60_000 });
  assert.equal(await admin.locator('p.state').innerText(), `1 gateway, image ${image.id}: done`);
  assert.deepEqual(await admin.locator('tr[data-gateway="GW:DEMO-1"] td').allInnerTexts(), ['1', '1', '0', '200 Successful: 1']);
});

test('a gateway shows a read-only status page on its LAN listener', async () => {
  const p = await page();
  await p.goto(statusPages[0]!);
  await p.getByRole('heading', { level: 1, name: 'Gateway GW:DEMO-1' }).waitFor();
  const byMode = p.getByRole('table', { name: 'By mode' });
  assert.equal(await byMode.getByRole('row', { name: 'proxy' }).getByRole('cell').innerText(), '4');
  assert.equal(await p.getByRole('table', { name: 'Images' }).getByRole('rowheader', { name: 'webfw-1.0' }).count(), 1);
  assert.equal(await p.locator('script').count(), 0);
  await shot(p, 'gateway-status');
  await p.context().close();
});

test('the device page browses the tree and reports a refused change', async () => {
  await admin.goto(`${base}/#/gateways/GW%3ADEMO-1/devices/IMEI%3A3500010?path=.%2FDevInfo`);
  await admin.getByRole('link', { name: 'Mod', exact: true }).click();
  await admin.locator('#node-value').filter({ hasText: 'fleet' }).waitFor();
  await admin.getByLabel('New value').fill('hacked');
  await admin.getByRole('button', { name: 'Replace' }).click();
  await admin.getByText(/The device refused: 405/).waitFor();
  await shot(admin, 'device');
});

test('an LwM2M device page shows its registered objects by name; a value is read, one written, one observed live, and the observation cancelled', async () => {
  await admin.goto(`${base}/#/gateways/GW%3ADEMO-1/devices/demo1-lw0`);
  await admin.getByRole('heading', { level: 2, name: 'Device /3' }).waitFor();
  await admin.getByRole('heading', { level: 2, name: 'Temperature /3303' }).waitFor();
  await admin.getByRole('heading', { level: 2, name: 'Firmware Update /5' }).waitFor();
  // no DM tree offered for a device that has none
  assert.equal(await admin.getByRole('link', { name: './DevInfo' }).count(), 0);
  const row = (path: string) => admin.locator(`tr[data-path="${path}"]`);
  // every instance read on arrival: the Manufacturer, typed rows with their access
  await admin
    .locator('#lwm2m-outcome')
    .filter({ hasText: /^Read \d+ instances\.$/ })
    .waitFor();
  assert.notEqual(await row('/3/0/0').locator('output').innerText(), '');
  assert.deepEqual(
    await row('/3303/0/5750')
      .locator('td')
      .allInnerTexts()
      .then((t) => t.slice(0, 2)),
    ['string', 'RW'],
  );
  await admin.getByRole('button', { name: 'Read /3303/0/5700' }).click();
  await admin.locator('#lwm2m-outcome').filter({ hasText: 'Read /3303/0/5700: done.' }).waitFor();
  assert.match(await row('/3303/0/5700').locator('output').innerText(), /^-?\d+(\.\d+)?$/);

  await admin.getByRole('button', { name: 'Write /3303/0/5750' }).click();
  await admin.getByLabel('New value of Application Type (/3303/0/5750)').fill('cellar');
  await admin.getByRole('form', { name: 'Write /3303/0/5750' }).getByRole('button', { name: 'Send' }).click();
  await admin.locator('#lwm2m-outcome').filter({ hasText: 'Write /3303/0/5750: done.' }).waitFor();
  // the device has it: read back through the API, not the page
  const job = await api('POST', '/api/devices/demo1-lw0/jobs', { commands: [{ kind: 'Get', path: './3303/0/5750' }] });
  const done = await api('GET', `/api/jobs/${job.json.id}?wait=30`);
  assert.equal(done.json.results[0].data, 'cellar');

  await admin.getByRole('button', { name: 'Observe /3303/0/5750' }).click();
  await admin.locator('#lwm2m-outcome').filter({ hasText: 'Observing /3303/0/5750' }).waitFor();
  // a change made elsewhere reaches the page by the device's notification, without a reload
  await api('POST', '/api/devices/demo1-lw0/jobs', { commands: [{ kind: 'Replace', path: './3303/0/5750', value: 'attic' }] });
  await row('/3303/0/5750').locator('output[data-source="notified"]').filter({ hasText: 'attic' }).waitFor();
  await shot(admin, 'lwm2m-device');
  await admin.getByRole('button', { name: 'Cancel /3303/0/5750' }).click();
  await admin.locator('#lwm2m-outcome').filter({ hasText: 'No longer observing /3303/0/5750.' }).waitFor();
});

test("the device page lists the device's alerts and adds a new one live, with its Type and a preview of its Data", async () => {
  const id = 'IMEI:3500011';
  // the device also talks to the server directly (it has an account there) and sends it a Generic Alert
  assert.equal((await api('POST', '/api/devices', { deviceId: id, name: 'alerter', password: 'alerter-pw' })).status, 201);
  const streaming = admin.waitForResponse((r) => r.url().includes('/api/alerts/events') && r.status() === 200);
  await admin.goto(`${base}/#/gateways/GW%3ADEMO-1/devices/${encodeURIComponent(id)}?path=.%2FDevInfo`);
  await admin.getByText('No alerts from this device yet.').waitFor();
  await streaming;
  const m = pkg1(id, `${base}/dm`, { locName: 'alerter', cred: md5Cred('alerter', 'alerter-pw') });
  const tnds = `<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>DevDetail</NodeName><Node><NodeName>FwV</NodeName><Value>${'7'.repeat(200)}</Value></Node></Node></MgmtTree>`;
  const sent = await postDm(`${base}/dm`, {
    ...m,
    body: {
      ...m.body,
      commands: [
        ...m.body.commands,
        {
          kind: 'Alert',
          cmdId: 3,
          data: 1226,
          items: [{ source: { locUri: './DevDetail' }, meta: { type: 'org.openmobilealliance.dm.tndsxml', format: 'xml' }, data: tnds }],
        },
      ],
    },
  });
  assert.equal(sent.status, 200);
  const row = admin.locator('#device-alerts tbody tr');
  await row.filter({ hasText: 'org.openmobilealliance.dm.tndsxml' }).waitFor();
  assert.match(await row.locator('.preview').innerText(), /^<MgmtTree><VerDTD>1\.2<\/VerDTD>.*7…$/);
  await shot(admin, 'device-alerts');
  // the same alert from the list, on the next visit
  await admin.goto(`${base}/#/gateways/GW%3ADEMO-1/devices/${encodeURIComponent(id)}?path=.%2FDevDetail`);
  await admin.locator('#device-alerts tbody tr').filter({ hasText: 'org.openmobilealliance.dm.tndsxml' }).waitFor();
  assert.equal(await admin.locator('#device-alerts tbody tr').count(), 1);
});

test('a session trace shows the decoded messages as XML, credentials masked', async () => {
  await admin.goto(`${base}/#/sessions`);
  await admin.getByRole('heading', { level: 1, name: 'Session traces' }).waitFor();
  await shot(admin, 'sessions');
  await admin.locator('tr[data-device="GW:DEMO-1"] a').first().click();
  await admin.getByRole('heading', { level: 1, name: /^Session #\d+ with GW:DEMO-1$/ }).waitFor();
  const first = admin.locator('pre.xml').first();
  const xml = await first.innerText();
  assert.match(xml, /<SyncHdr>/);
  assert.match(xml, /<LocURI>GW:DEMO-1<\/LocURI>/);
  assert.match(await admin.getByRole('heading', { level: 2 }).first().innerText(), /GW:DEMO-1 → server \(wbxml, \d+ bytes\)/);
  assert.ok(!(await admin.locator('main').innerText()).includes('gw-secret'), 'no secret in the page');
  await shot(admin, 'trace');
});

test('a page still loading when the user moves on does not draw over the newer page', async () => {
  const p = await page();
  await logIn(p, 'admin', ADMIN_PASSWORD);
  await p.getByRole('heading', { level: 1, name: 'Fleet overview' }).waitFor();
  // hold the gateways list in the browser until the sessions page is on screen, then let it through
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let asked!: () => void;
  const requested = new Promise<void>((r) => (asked = r));
  await p.route(/\/api\/gateways$/, async (r) => {
    asked();
    await held;
    await r.continue();
  });
  await p.goto(`${base}/#/gateways?again`);
  await requested;
  await p.goto(`${base}/#/sessions`);
  await p.getByRole('heading', { level: 1, name: 'Session traces' }).waitFor();
  // the gateways page asks for each gateway's counts in the same turn as it draws: once it has, it drew
  const drewLate = p.waitForRequest(/\/devices\?limit=1$/);
  release();
  await drewLate;
  assert.equal(await p.getByRole('heading', { level: 1 }).innerText(), 'Session traces');
  await p.context().close();
});

test('a viewer sees no fanout or group controls, and the API refuses them', async () => {
  const p = await page();
  await logIn(p, 'watcher', 'watcher-password');
  await p.getByRole('heading', { level: 1, name: 'Fleet overview' }).waitFor();
  await p.goto(`${base}/#/gateways/GW%3ADEMO-1/fanouts/new`);
  await p.locator('#no-fanout').filter({ hasText: 'Your role (viewer) may watch fanouts but not start them.' }).waitFor();
  assert.equal(await p.locator('#start-fanout').count(), 0);
  await p.goto(`${base}/#/gateways/GW%3ADEMO-1/groups`);
  await p.locator('tr[data-group="meters"]').waitFor();
  assert.equal(await p.getByRole('button', { name: /Create group|Delete meters/ }).count(), 0);
  // and the API itself, with the viewer's login cookie from the page's origin
  const status = await p.evaluate(
    async () =>
      (
        await fetch('/api/gateways/GW%3ADEMO-1/fanouts', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ groups: ['meters'], commands: [{ kind: 'Get', path: './DevInfo/Mod' }] }),
        })
      ).status,
  );
  assert.equal(status, 403);
  await shot(p, 'viewer');
  await p.context().close();
});

test('the whole tour had no console error, page error, failed request or unexpected HTTP error', () => {
  assert.deepEqual(problems, []);
});
