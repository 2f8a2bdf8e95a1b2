// A gwmo DM server instance under load in `npm run bench -- scale`: DB is a --db value (SQLite file
// or postgres:// URL), ACCOUNTS device accounts it creates first (0: another instance made them),
// POOL its connections to PostgreSQL (--db-pool), PUBLIC_URL (optional) its --public-url (a load
// balancer's). Gateways GW:1xxxxx get a Get of ./DevInfo/Mod in every session, made up here and never
// stored: their sessions take two DM messages from the gateway, so the second one can land on the
// other instance, while the database work stays that of a check-in.
// Prints the URL it listens at on stdout; stops on SIGINT.
import { randomUUID } from 'node:crypto';

import { DmServer } from '../../src/server/dm-server.ts';
import { openServerStores, parseDb } from '../../src/store/open.ts';

const [db, accountsText, pool, publicUrl] = process.argv.slice(2);
/** the accounts of gateways whose sessions take two messages start here */
const TWO_MESSAGE_BASE = 100_000; // bench/scale.ts: the same
const twoMessage = (deviceId: string): boolean => deviceId.startsWith('GW:1');
const stores = await openServerStores(parseDb(db!), { poolSize: Number(pool) });
/** devices that were handed their Get in the session under way: the next take gives nothing, and the session ends */
const handed = new Set<string>();
const server = new DmServer({
  store: stores.server,
  serverId: 'bench',
  ...(publicUrl ? { publicUrl } : {}),
  deps: (base) => ({
    ...base,
    takeOperations: async (deviceId, limit) => {
      if (!twoMessage(deviceId)) return base.takeOperations(deviceId, limit);
      if (handed.delete(deviceId)) return [];
      handed.add(deviceId);
      return [{ id: randomUUID(), kind: 'Get', target: './DevInfo/Mod' }];
    },
    completeOperation: async (deviceId, id, outcome) => (twoMessage(deviceId) ? undefined : base.completeOperation(deviceId, id, outcome)),
  }),
});
await server.start();
for (let d = 0; d < Number(accountsText); d++) {
  for (const n of [d, TWO_MESSAGE_BASE + d])
    await server.service.ensureDevice({ deviceId: `GW:${String(n).padStart(6, '0')}`, name: `gw${n}`, password: 'pw', scheme: 'md5' });
}
// where it listens (with a public URL, that is the balancer's)
console.log(server.listenUrl);
process.on(
  'SIGINT',
  () =>
    void server
      .stop()
      .then(() => stores.close())
      .then(() => process.exit(0)),
);
