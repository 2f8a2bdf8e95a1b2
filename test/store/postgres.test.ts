// The PostgreSQL store: the ServerStore contract on a throw-away cluster, then what only a shared
// store must do: two instances never take the same operation, hear each other's changes, and
// requeue what a dead instance had sent but not what a live one has.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';

import pg from 'pg';

import { PgAuthStore } from '../../src/store/postgres/auth.ts';
import { PgPool } from '../../src/store/postgres/pool.ts';
import { PgServerStore, type PgServerStoreOptions } from '../../src/store/postgres/server.ts';
import type { StoreChange } from '../../src/store/server.ts';
import { type PgCluster, startPostgres } from '../support/postgres.ts';
import { serverStoreContract } from './server-contract.ts';

let cluster: PgCluster;
before(async () => {
  cluster = await startPostgres();
});
after(() => cluster?.close());

serverStoreContract('postgres', async () => PgServerStore.open(await cluster.database()));

const DEVICE = { deviceId: 'D', scheme: 'syncml:auth-md5', clientName: 'n', clientPassword: 'p', devInfo: {}, createdAt: 1 } as const;

async function twoInstances(): Promise<[PgServerStore, PgServerStore]> {
  const url = await cluster.database();
  const [a, b] = await Promise.all([PgServerStore.open(url), PgServerStore.open(url)]); // concurrent starts migrate once
  await a.putDevice(DEVICE);
  return [a, b];
}

test('two instances taking one device queue at once never take the same operation', async () => {
  const [a, b] = await twoInstances();
  try {
    for (let i = 0; i < 200; i++)
      await a.queueOperation({ id: `o${String(i).padStart(3, '0')}`, deviceId: 'D', kind: 'Get', target: './x' }, i);
    const taken: string[] = [];
    // each take runs inside a batch that holds its rows until commit, as a DM message does
    const worker = async (s: PgServerStore): Promise<void> => {
      for (;;) {
        const ops = await s.batch(async () => s.takeOperations('D', 3, 1));
        if (ops.length === 0) return;
        taken.push(...ops.map((o) => o.id));
      }
    };
    await Promise.all([worker(a), worker(b), worker(a), worker(b)]);
    assert.equal(taken.length, 200);
    assert.equal(new Set(taken).size, 200, 'no operation taken twice');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a change committed on one instance is heard on the other, after commit only', async () => {
  const [a, b] = await twoInstances();
  try {
    const heard: StoreChange[] = [];
    let wake: () => void = () => {};
    b.watch((c) => (heard.push(c), wake()));
    const next = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no change heard within 5 s')), 5000);
        wake = () => (clearTimeout(t), resolve());
      });
    await a.queueOperation({ id: 'op', deviceId: 'D', kind: 'Get', target: './x' }, 1);
    let heardInside = 0;
    const done = next();
    await a.batch(async () => {
      await a.finishOperation('op', { state: 'done', status: 200 }, 2);
      heardInside = heard.length;
    });
    await done;
    assert.equal(heardInside, 0, 'nothing is heard before the commit');
    assert.deepEqual(heard, [{ kind: 'operation', id: 'op' }]);
    const job = next();
    await a.putDeviceJob({ id: 'j1', deviceId: 'L', commands: [], state: 'done', createdAt: 1, updatedAt: 1 });
    await job;
    assert.deepEqual(heard.at(-1), { kind: 'deviceJob', id: 'j1' });
  } finally {
    await a.close();
    await b.close();
  }
});

test('a starting instance requeues what dead instances sent, not what a live one has out', async () => {
  const [a, b] = await twoInstances();
  try {
    await a.queueOperation({ id: 'live', deviceId: 'D', kind: 'Get', target: './x' }, 1);
    await a.queueOperation({ id: 'add', deviceId: 'D', kind: 'Add', target: './y' }, 1);
    await a.takeOperations('D', 2, 2);
    assert.equal(await b.requeueAllSent(3), 0, 'a is alive: its session still holds the operations');
    assert.equal((await b.getOperation('add'))?.state, 'sent');
    await a.close(); // a clean stop puts back what it had out, but an Add that may have run
    assert.equal((await b.getOperation('live'))?.state, 'queued');
    assert.equal((await b.getOperation('add'))?.state, 'indoubt');
  } finally {
    await a.close();
    await b.close();
  }
});

/**
 * Spies on the real client and sockets, nothing replaced: the statements pg clients are given, and
 * the writes to the cluster where Node hands bytes to the kernel, while `observed` runs.
 */
function spyOnPostgres(): {
  observed: <T>(run: () => Promise<T>) => Promise<T>;
  seen: { writes: number; statements: string[]; connections: Set<number> };
} {
  const seen = { writes: 0, statements: [] as string[], connections: new Set<number>() };
  const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  const client = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const originals = { _write: proto._write, _writev: proto._writev, query: client.query };
  const observed = async <T>(run: () => Promise<T>): Promise<T> => {
    seen.writes = 0;
    seen.statements = [];
    seen.connections.clear();
    for (const kind of ['_write', '_writev'] as const) {
      proto[kind] = function (this: net.Socket, ...args: unknown[]) {
        if (this.remotePort === cluster.port) {
          seen.writes++;
          seen.connections.add(this.localPort!);
        }
        return originals[kind].apply(this, args);
      };
    }
    client.query = function (this: pg.Client, ...args: unknown[]) {
      const q = args[0] as string | { text: string };
      seen.statements.push((typeof q === 'string' ? q : q.text).trim().split(/\s+/).slice(0, 3).join(' '));
      return originals.query.apply(this, args);
    };
    try {
      return await run();
    } finally {
      Object.assign(proto, { _write: originals._write, _writev: originals._writev });
      client.query = originals.query;
    }
  };
  return { observed, seen };
}

/** what the server engine does in a check-in: look the account up, save the next nonce, file DevInfo, look at the queue */
function checkIn(s: PgServerStore, deviceId: string): Promise<unknown> {
  return s.batch(async () => {
    await s.touchDevice(deviceId, 1);
    await s.updateDevice(deviceId, { clientNonce: Uint8Array.of(1) });
    await s.updateDevice(deviceId, { devInfo: { Mod: 'm' } });
    return s.takeOperations(deviceId, 5, 1);
  });
}

/** A store on a new database holding DEVICE, and a plain client on that database to look at it with; both closed after `run`. */
async function withStore(
  options: PgServerStoreOptions,
  run: (s: PgServerStore, admin: pg.Client, url: string) => Promise<void>,
): Promise<void> {
  const url = await cluster.database();
  const s = await PgServerStore.open(url, options);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await s.putDevice(DEVICE);
    await run(s, admin, url);
  } finally {
    await admin.end();
    await s.close();
  }
}

test('a check-in is two statements in two writes to PostgreSQL and one new version of the device row', () =>
  withStore({}, async (s, admin) => {
    const version = async (): Promise<number> =>
      Number(/,(\d+)\)/.exec((await admin.query(`SELECT ctid::text AS c FROM devices WHERE device_id = 'D'`)).rows[0].c)![1]);
    const message = (): Promise<unknown> => checkIn(s, 'D');
    const { observed, seen } = spyOnPostgres();
    await message(); // the pool's connection is open and its statements are prepared
    const before = await version();
    await observed(message);
    // the lookup (which tells the queue is empty: no take), then one UPDATE for LastSeen, the nonce
    // and DevInfo, alone: no BEGIN or COMMIT around a single write
    assert.deepEqual(seen.statements, ['SELECT *, EXISTS', 'UPDATE devices SET']);
    assert.equal(seen.writes, 2);
    assert.equal(await version(), before + 1);
    await s.queueOperation({ id: 'q', deviceId: 'D', kind: 'Get', target: './x' }, 2);
    const taken = await observed(message);
    assert.deepEqual(
      (taken as { id: string }[]).map((o) => o.id),
      ['q'],
    );
    // three writes: the lookup; a transaction from the take on, BEGIN pipelined with it; the held UPDATE with COMMIT
    assert.deepEqual(seen.statements, ['SELECT *, EXISTS', 'BEGIN', 'UPDATE operations SET', 'UPDATE devices SET', 'COMMIT']);
    assert.equal(seen.writes, 3);
  }));

test('the check-ins of messages handled in one turn go to PostgreSQL together, on one connection', async () => {
  const s = await PgServerStore.open(await cluster.database());
  const { observed, seen } = spyOnPostgres();
  try {
    const ids = ['A', 'B', 'C', 'D', 'E'];
    for (const deviceId of ids) await s.putDevice({ ...DEVICE, deviceId });
    await Promise.all(ids.map((id) => checkIn(s, id))); // connections open, statements prepared
    await observed(() => Promise.all(ids.map((id) => checkIn(s, id))));
    assert.equal(seen.statements.filter((t) => t === 'SELECT *, EXISTS').length, 5);
    assert.equal(seen.statements.filter((t) => t === 'UPDATE devices SET').length, 5);
    assert.equal(seen.connections.size, 1);
    // the five lookups in one write; the UPDATEs as their answers come in, in one write or a few
    assert.ok(seen.writes <= 1 + 5, `${seen.writes} writes`);
  } finally {
    await s.close();
  }
});

// bounded: without the shared connection the check-in would wait on the pool for ever
test('a check-in needs none of the pooled connections, which transactions hold', { timeout: 10_000 }, async () => {
  const s = await PgServerStore.open(await cluster.database(), { poolSize: 1 });
  let release: () => void = () => {};
  const holding = new Promise<void>((r) => (release = r));
  try {
    await s.putDevice(DEVICE);
    await s.putDevice({ ...DEVICE, deviceId: 'E' });
    let begun: () => void = () => {};
    const hasConnection = new Promise<void>((r) => (begun = r));
    // a message that has begun a transaction (on the only pooled connection) and waits
    const held = s.batch(async () => {
      await s.queueOperation({ id: 'h', deviceId: 'E', kind: 'Get', target: './x' }, 1);
      begun();
      await holding;
    });
    await hasConnection;
    assert.equal(((await checkIn(s, 'D')) as unknown[]).length, 0);
    release();
    await held;
  } finally {
    release();
    await s.close();
  }
});

test(
  "a check-in waiting on a lock of its device row goes on at the holder's COMMIT, and fails after the lock timeout",
  { timeout: 15_000 },
  () =>
    // two instances, so neither half races the clock: one whose lock timeout (60 s) cannot run out
    // between the wait being seen and the COMMIT however loaded the machine (CI failed at 300 ms, then
    // at 2 s), and one whose short timeout runs out while the lock is surely held (until the ROLLBACK)
    withStore({ lockTimeoutMs: 60_000 }, async (s, admin, url) => {
      const short = await PgServerStore.open(url, { lockTimeoutMs: 200 });
      try {
        await checkIn(s, 'D');
        await admin.query('BEGIN');
        await admin.query(`SELECT 1 FROM devices WHERE device_id = 'D' FOR UPDATE`);
        const waiting = checkIn(s, 'D');
        // seen waiting in PostgreSQL, each look a round trip (no sleeping). The admin client is inside
        // its transaction, where PostgreSQL keeps the first look's pg_stat_activity for every later one:
        // each look clears it, or a check-in not yet waiting at the first look is never seen (CI, loaded)
        for (const deadline = Date.now() + 5_000; ; ) {
          await admin.query('SELECT pg_stat_clear_snapshot()');
          const rows = (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE devices%'`))
            .rows;
          if (rows.length) break;
          assert.ok(Date.now() < deadline, 'the check-in never waited on the lock');
        }
        await admin.query('COMMIT');
        await waiting;

        await admin.query('BEGIN');
        await admin.query(`SELECT 1 FROM devices WHERE device_id = 'D' FOR UPDATE`);
        await assert.rejects(checkIn(short, 'D'), (err: { code?: string }) => err.code === '55P03');
        await admin.query('ROLLBACK');
        await checkIn(short, 'D');
      } finally {
        await short.close();
      }
    }),
);

test('a read whose shared connection is lost, idle or mid-statement, is made on a new one', (t) =>
  withStore({}, async (s, admin, url) => {
    const db = new PgPool(url, 2);
    /** the pid of the backend whose last statement matches `pattern`, once there is one (each look is a round trip: no sleeping) */
    const backend = async (pattern: string, not?: number): Promise<number> => {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const rows = (
          await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ~ $1 AND pid <> $2`, [
            pattern,
            not ?? 0,
          ])
        ).rows;
        if (rows[0]) return Number(rows[0].pid);
        if (Date.now() > deadline) throw new Error(`no backend ran ${pattern} within 5 s`);
      }
    };
    const checkInStatement = '^(SELECT \\*, EXISTS|UPDATE devices SET)';
    t.after(() => db.close());
    await checkIn(s, 'D');
    const idle = await backend(checkInStatement);
    await admin.query('SELECT pg_terminate_backend($1, 5000)', [idle]); // returns once it is gone
    assert.equal((await s.batch(() => s.touchDevice('D', 2)))?.deviceId, 'D');
    assert.notEqual(await backend(checkInStatement), idle);

    // mid-statement: a read held up on an advisory lock (a test's stand-in for a slow read) loses its backend
    await admin.query('SELECT pg_advisory_lock(42)');
    const read = db.query('SELECT pg_advisory_lock_shared(42), 1 AS one', [], { read: true });
    const first = await backend('lock_shared');
    await admin.query('SELECT pg_terminate_backend($1, 5000)', [first]);
    await backend('lock_shared', first); // repeated on a new connection, where it waits again
    await admin.query('SELECT pg_advisory_unlock(42)');
    assert.deepEqual(
      (await read).map((r) => r['one']),
      [1],
    );
  }));

test('an instance keeps at most its pool of connections, whatever the number of messages in flight', () =>
  withStore({ poolSize: 3 }, async (s, admin) => {
    let most = 0;
    // twelve messages at once, each holding its connection until its write is answered
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        s.batch(async () => {
          await s.queueOperation({ id: `p${i}`, deviceId: 'D', kind: 'Get', target: './x' }, i);
          const open = Number(
            (
              await admin.query(
                `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query NOT LIKE 'LISTEN%'`,
              )
            ).rows[0].n,
          );
          most = Math.max(most, open);
        }),
      ),
    );
    assert.equal(most, 3);
    assert.equal((await s.listOperations('D')).length, 12, 'the others waited their turn');
  }));

test('the auth store keeps users and tokens for every instance', async () => {
  const url = await cluster.database();
  const [x, y] = [await PgAuthStore.open(url), await PgAuthStore.open(url)];
  try {
    await x.putUser({ name: 'admin', role: 'admin', passwordHash: 'h', createdAt: 1 });
    // a create on another instance of a name that exists changes nothing
    assert.equal(await y.addUser({ name: 'admin', role: 'viewer', passwordHash: 'other', createdAt: 3 }), false);
    assert.equal((await x.getUser('admin'))?.passwordHash, 'h');
    await x.putToken({ id: 't', user: 'admin', kind: 'api', label: 'l', secretHash: 's', createdAt: 2, expiresAt: 9 });
    assert.equal((await y.getUser('admin'))?.role, 'admin');
    assert.equal((await y.getToken('t'))?.expiresAt, 9);
    await y.touchToken('t', 5);
    assert.equal(await y.revokeToken('t', 6), true);
    assert.equal(await y.revokeToken('t', 6), false);
    assert.equal(await y.deleteUser('admin', 7), true);
    assert.deepEqual(await x.listUsers(), []);
    assert.equal((await x.listTokens())[0]?.revokedAt, 6);
  } finally {
    x.close();
    y.close();
  }
});

test('an unreachable PostgreSQL is an error that names the host and port and what to check', async () => {
  await assert.rejects(
    PgServerStore.open('postgres://gwmo@127.0.0.1:1/gwmo'),
    /cannot use PostgreSQL at 127\.0\.0\.1:1\/gwmo: .*is PostgreSQL running there\? check the host and port in --db/,
  );
  await assert.rejects(PgServerStore.open(cluster.url.replace(/\/postgres$/, '/nosuchdb')), /database does not exist: create it/);
});
