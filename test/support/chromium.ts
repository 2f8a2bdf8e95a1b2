// Real Chromium for the dashboard tests (Debian's /usr/bin/chromium through playwright-core).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Starts Chromium on a fresh temporary user-data dir of its own (no --user-data-dir in args). */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does it)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Logs in through the dashboard's own form at `base`. */
export async function logIn(p: Page, base: string, name: string, password: string): Promise<void> {
  await p.goto(`${base}/`);
  await p.getByLabel('Name').fill(name);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Log in' }).click();
}
