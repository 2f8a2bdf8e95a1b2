// --lwm2m-psk-file seeds keys at every start; a key the DM server set since is not set back to the
// file's (it used to be: a restart undid the server's rotation).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { Lwm2mCredentials } from '../../src/gateway/lwm2m-credentials.ts';
import { SqliteGatewayStore } from '../../src/store/sqlite/gateway.ts';

const FILE_KEY = { identity: 'dev-1', key: '00112233445566778899aabbccddeeff' };

test('a start with the file again keeps the key the DM server rotated to; a file-only key follows the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-pskfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'gateway.db');
  const start = () => new SqliteGatewayStore(path);

  let store = start();
  assert.equal(new Lwm2mCredentials(store).seedLocal('ep-1', FILE_KEY), 'ok');
  assert.equal(new Lwm2mCredentials(store).seedLocal('ep-2', FILE_KEY), 'taken', 'one identity, one endpoint');
  assert.equal(new Lwm2mCredentials(store).get('ep-2'), undefined, 'and no empty entry left behind');
  // the DM server rotates ep-1 (./GwMO/LwM2MCredentials/ep-1/SecretKey) and the device proves it
  const creds = new Lwm2mCredentials(store);
  assert.equal(creds.update('ep-1', { key: 'ffeeddccbbaa99887766554433221100' }), 'ok');
  creds.proved('dev-1', Buffer.from('ffeeddccbbaa99887766554433221100', 'hex'));
  await store.close();

  store = start();
  const again = new Lwm2mCredentials(store);
  assert.equal(again.seedLocal('ep-1', FILE_KEY), 'kept');
  assert.equal(again.get('ep-1')?.psk?.key, 'ffeeddccbbaa99887766554433221100');
  assert.equal(again.lookupPsk('dev-1')?.previousKey, undefined, "the file's old key is not accepted either");
  // a key only the file ever set: a changed file is a rotation
  assert.equal(again.seedLocal('ep-3', { identity: 'dev-3', key: 'aa'.repeat(16) }), 'ok');
  assert.equal(again.seedLocal('ep-3', { identity: 'dev-3', key: 'bb'.repeat(16) }), 'ok');
  assert.deepEqual([again.get('ep-3')?.psk?.key, again.get('ep-3')?.previous?.key], ['bb'.repeat(16), 'aa'.repeat(16)]);
  await store.close();
});
