// A gwmo DM server instance under load in `npm run bench -- scale`: DB is a --db value (SQLite file
// or postgres:// URL), ACCOUNTS device accounts it creates first (0: another instance made them),
// POOL its connections to PostgreSQL (--db-pool).
// Prints its URL on stdout; stops on SIGINT.
import { DmServer } from '../../src/server/dm-server.ts';
import { openServerStores, parseDb } from '../../src/store/open.ts';

const [db, accountsText, pool] = process.argv.slice(2);
const stores = await openServerStores(parseDb(db!), { poolSize: Number(pool) });
const server = new DmServer({ store: stores.server, serverId: 'bench' });
const url = await server.start();
for (let d = 0; d < Number(accountsText); d++) {
  await server.service.ensureDevice({ deviceId: `GW:${String(d).padStart(6, '0')}`, name: `gw${d}`, password: 'pw', scheme: 'md5' });
}
console.log(url);
process.on(
  'SIGINT',
  () =>
    void server
      .stop()
      .then(() => stores.close())
      .then(() => process.exit(0)),
);
