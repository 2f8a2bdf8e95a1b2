// What the demo prepares for a campaign on its first gateway: an image staged there and a group of
// all its devices, so the dashboard's Campaigns page needs only a few clicks (docs/updates.md).
import { Readable } from 'node:stream';

import type { DmServer } from '../../server/dm-server.ts';

export const DEMO_IMAGE = { name: 'demo-fw', version: '2.0', staged: 'demo-fw-2.0', bytes: 256 * 1024 };
export const DEMO_GROUP = 'rollout';

/** Failures are logged, not thrown: the demo runs without them. */
export async function prepareCampaignDemo(
  server: DmServer,
  gateway: string,
  members: readonly string[],
  log: (event: string, f: Record<string, unknown>) => void,
): Promise<void> {
  try {
    const images = server.images!;
    // the same bytes every start: a restarted demo finds its upload instead of a second one
    const found = (await images.list()).find((i) => i.name === DEMO_IMAGE.name && i.version === DEMO_IMAGE.version);
    const image =
      found ??
      (await images.add(
        Readable.from([Buffer.alloc(DEMO_IMAGE.bytes, 'gwmo demo firmware 2.0\n')]),
        { name: DEMO_IMAGE.name, version: DEMO_IMAGE.version, contentType: 'application/octet-stream' },
        DEMO_IMAGE.bytes,
        Date.now(),
      ));
    if (!found) await server.gateways.stageImage(gateway, { image: image.id, name: DEMO_IMAGE.staged }, 10_000);
    await server.gateways.putGroup(gateway, DEMO_GROUP, { description: 'every demo device of this gateway', members }, 10_000);
    log('demo.campaign-ready', { gateway, image: DEMO_IMAGE.staged, group: DEMO_GROUP, members: members.length });
  } catch (err) {
    log('demo.error', { step: 'campaign image and group', error: err instanceof Error ? err.message : String(err) });
  }
}
