// Which results at the gateway a device left let it be sent its step again elsewhere: only those
// that show nothing of the update can have reached it (docs/updates.md, Moved mid-distribution).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { notReached } from '../../src/server/distribution-follow.ts';

const vectors = [
  { name: 'detached when the fanout reached it (410, no command ran)', object: 'fumo', exec: { status: 410 }, follow: true },
  { name: 'no Cmd results at all (status read as 0)', object: 'scomo', exec: { status: 0 }, follow: true },
  { name: 'DM Exec cancelled unsent (408, not in doubt)', object: 'fumo', exec: { status: 408 }, follow: true },
  { name: 'DM Exec sent and unanswered (408, in doubt)', object: 'fumo', exec: { status: 408, inDoubt: true }, follow: false },
  { name: 'LwM2M 408: its Update may have run before the reads timed out', object: 'lwm2m', exec: { status: 408 }, follow: false },
  { name: 'LwM2M never reached (410)', object: 'lwm2m', exec: { status: 410 }, follow: true },
  { name: 'the device answered: failed update (500, FUMO 402)', object: 'fumo', exec: { status: 500, data: '402' }, follow: false },
  { name: 'the device answered: updated (200)', object: 'fumo', exec: { status: 200, data: '200' }, follow: false },
  { name: 'no result for it at all', object: 'fumo', exec: undefined, follow: false },
] as const;

for (const v of vectors)
  test(`${v.name}: ${v.follow ? 'followed' : 'final'}`, () => {
    assert.equal(notReached(v.object, v.exec), v.follow);
  });
