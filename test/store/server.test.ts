import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { serverStoreContract } from './server-contract.ts';

serverStoreContract('sqlite', async () => new SqliteServerStore(':memory:'));
