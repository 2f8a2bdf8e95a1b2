// `npm start` = `gwmo demo`: a server, two gateways and a mixed fleet; stops cleanly; restarts on its data.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { AUTH, GwmoProcess } from '../support/process.ts';

test('the demo starts, answers through the API, stops on SIGTERM and reuses its data', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwmo-demo-'));
  const args = ['demo', '--port', '0', '--dm', '3', '--lwm2m', '2', '--data-dir', dir];
  try {
    for (const round of [1, 2]) {
      // the second round lets the nomadic device move at once
      const demo = new GwmoProcess([...args, '--move-every', round === 1 ? '3600' : '1']);
      try {
        const ready = await demo.waitFor((l) => l.event === 'demo.ready', 30_000);
        const api = String(ready['api']);
        const gateways = (await (await fetch(`${api}/gateways`, { headers: AUTH })).json()) as { items: { deviceId: string }[] };
        assert.deepEqual(gateways.items.map((g) => g.deviceId).sort(), ['GW:DEMO-1', 'GW:DEMO-2']);
        const inv = (await (await fetch(`${api}/gateways/GW%3ADEMO-2/devices`, { headers: AUTH })).json()) as {
          summary: Record<string, unknown>;
        };
        assert.equal(inv.summary['Total'], '5', `round ${round}: the same five devices, not new ones`);
        assert.deepEqual(inv.summary['ByMode'], { Transparent: '0', Proxy: '3', Adaptation: '2' });
        const first = (await (await fetch(`${api}/gateways/GW%3ADEMO-1/devices`, { headers: AUTH })).json()) as {
          summary: Record<string, unknown>;
        };
        assert.deepEqual(
          [first.summary['Total'], first.summary['ByMode']],
          ['7', { Transparent: '1', Proxy: '4', Adaptation: '2' }],
          'plus the transparent and the nomadic device',
        );
        // ready for a campaign in a few clicks: its image staged on GW:DEMO-1, a group of all its devices
        const prepared = await demo.waitFor((l) => l.event === 'demo.campaign-ready');
        assert.deepEqual([prepared['image'], prepared['group'], prepared['members']], ['demo-fw-2.0', 'rollout', 5]);
        const images = (await (await fetch(`${api}/images`, { headers: AUTH })).json()) as { items: { name: string }[] };
        assert.equal(images.items.filter((i) => i.name === 'demo-fw').length, 1, `round ${round}: one upload, not one per start`);
        const groups = JSON.stringify(await (await fetch(`${api}/gateways/GW%3ADEMO-1/groups`, { headers: AUTH })).json());
        assert.match(groups, /rollout/);
        if (round === 2) assert.equal((await demo.waitFor((l) => l.event === 'demo.moved'))['gateway'], 'GW:DEMO-2');
      } catch (err) {
        // a demo that never got ready is the failure to report, not how it died
        await demo.stop();
        throw err;
      }
      assert.equal(await demo.stop(), 0, `stops cleanly; stderr: ${demo.stderr.slice(-2000)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
