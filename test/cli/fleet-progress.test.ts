// `gwmo fleet` shows its start-up progress on stderr: plain lines when stderr is not a terminal.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GwmoProcess } from '../support/process.ts';
import { startGateway, startServer } from '../support/gw-pair.ts';

/** resolves once the process's stderr holds `text` (GwmoProcess appends before this listener runs) */
function stderrHas(p: GwmoProcess, text: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stderr never held ${JSON.stringify(text)}: ${p.stderr}`)), timeoutMs);
    const check = (): void => {
      if (p.stderr.includes(text)) {
        clearTimeout(timer);
        p.child.stderr!.off('data', check);
        resolve();
      }
    };
    p.child.stderr!.on('data', check);
    check();
  });
}

test('a fleet started with stderr on a pipe prints progress lines, stdout keeps its JSON lines', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url, { lwm2m: true });
  const fleet = new GwmoProcess([
    'fleet',
    '--count',
    '3',
    '--protocol',
    'lwm2m',
    '--server-url',
    `coap://${gw.gateway.lwm2mAddress}`,
    '--prefix',
    'pg-',
  ]);
  try {
    await stderrHas(fleet, 'progress 3/3 devices started\n');
    await fleet.waitFor((l) => l.event === 'fleet.started', 30_000);
    assert.ok(!fleet.stderr.includes('\r'), 'no terminal redraws on a pipe');
    assert.ok(
      fleet.lines.every((l) => typeof l.event === 'string'),
      'stdout holds only JSON log lines',
    );
  } finally {
    // the fleet de-registers from the gateway: stop it first
    await fleet.stop();
    await gw.close();
    await srv.close();
  }
});
