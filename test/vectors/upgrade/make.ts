// Writes the upgrade fixtures with an OLD checkout's store code (see README.md here):
//   git worktree add --detach /tmp/old-srv d5ea66f^ && git worktree add --detach /tmp/old-gw 039f68d^
//   npx node test/vectors/upgrade/make.ts /tmp/old-srv /tmp/old-gw
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const [oldServer, oldGateway] = process.argv.slice(2);
if (!oldServer || !oldGateway) throw new Error('usage: make.ts <old server checkout> <old gateway checkout>');
const here = new URL('.', import.meta.url).pathname;

// a server.db at schema 2 (before session profiles and alert types): a device, two operations, two alerts, a device job
{
  const file = join(here, 'server-schema2.db');
  rmSync(file, { force: true });
  const { SqliteServerStore } = await import(join(oldServer, 'src/store/sqlite/server.ts'));
  const s = new SqliteServerStore(file);
  await s.putDevice({
    deviceId: 'IMEI:OLD-1',
    scheme: 'syncml:auth-md5',
    clientName: 'old-1',
    clientPassword: 'old-pw',
    serverName: 'gwmo',
    serverPassword: 'srv-pw',
    notifyAddress: '127.0.0.1:7000',
    devInfo: { Mod: 'old-model', Man: 'old-maker' },
    createdAt: 1_700_000_000_000,
  });
  await s.queueOperation({ id: 'op-done', deviceId: 'IMEI:OLD-1', kind: 'Get', target: './DevInfo/Mod' }, 1_700_000_001_000);
  await s.finishOperation('op-done', { state: 'done', status: 200, results: [{ source: './DevInfo/Mod', data: 'old-model' }] }, 1_700_000_002_000);
  await s.queueOperation({ id: 'op-queued', deviceId: 'IMEI:OLD-1', kind: 'Replace', target: './Vendor/X', data: 'y' }, 1_700_000_003_000);
  await s.addAlert({ deviceId: 'IMEI:OLD-1', code: 1226, items: [{ type: 'org.openmobilealliance.dm.firmwareupdate.devicerequest', data: '0' }], receivedAt: 1_700_000_004_000 });
  await s.addAlert({ deviceId: 'IMEI:OLD-1', code: 1224, items: [], receivedAt: 1_700_000_005_000 });
  await s.putDeviceJob({ id: 'job-1', deviceId: 'IMEI:OLD-1', commands: [{ kind: 'Get', path: './DevInfo/Mod' }], state: 'dispatched', gatewayId: 'GW:OLD', correlator: 'c-1', createdAt: 1_700_000_006_000, updatedAt: 1_700_000_006_000 });
  await s.close();
}

// a gateway.db from before group modes: a device, a group with members, a finished job with a result, config
{
  const file = join(here, 'gateway-before-group-modes.db');
  rmSync(file, { force: true });
  const { SqliteGatewayStore } = await import(join(oldGateway, 'src/store/sqlite/gateway.ts'));
  const g = new SqliteGatewayStore(file);
  g.setConfig('MaxConcurrency', '8');
  g.putDevice({ deviceId: 'OLD-DEV', mode: 2, protocol: 'dm', attached: true, firstSeen: 1_700_000_000_000, lastSeen: 1_700_000_001_000, info: { Mod: 'm' } });
  g.putGroup('meters', 'the old meters');
  g.setMembers('meters', [{ name: 'a', deviceId: 'OLD-DEV' }]);
  g.putJob({ name: 'old-job', targets: [{ name: 't1', uri: './GwMO/DevInventory/Devices/OLD-DEV' }], devices: ['OLD-DEV'], commandsXml: '<Get/>', state: 30 });
  g.addResult({ job: 'old-job', deviceId: 'OLD-DEV', status: 200, commands: [{ status: 200, data: 'fleet' }], at: 1_700_000_002_000 });
  g.close();
}

// small, one file each (no WAL beside them)
for (const f of ['server-schema2.db', 'gateway-before-group-modes.db']) {
  const db = new DatabaseSync(join(here, f));
  db.exec('PRAGMA journal_mode = DELETE; VACUUM;');
  db.close();
}
