// The process under load in `npm run bench -- session`: either the gwmo DM server with DEVICES
// accounts and OPS queued Gets each (one per package, so every HTTP pair carries one command), or
// a bare node:http server that echoes the body (the loopback ceiling). Prints its URL on stdout.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DmServer } from '../../src/server/dm-server.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';

// dbPath: an existing store to run on (npm run bench -- history's seeded one); a new empty one by default
const [mode, devicesText, opsText, dbPath] = process.argv.slice(2);
let stopProfile = async (): Promise<void> => {};
if (mode === 'echo') {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}/dm`));
} else {
  const store = new SqliteServerStore(dbPath ?? join(mkdtempSync(join(tmpdir(), 'gwmo-bench-')), 'server.db'));
  const server = new DmServer({ store, serverId: 'bench', maxOpsPerPackage: 1 });
  const url = await server.start();
  const devices = Number(devicesText);
  const ops = Number(opsText);
  for (let d = 0; d < devices; d++) {
    const deviceId = `IMEI:${String(d).padStart(15, '0')}`;
    // a seeded store has the account already (the same credentials)
    await server.service.ensureDevice({ deviceId, name: `dev${d}`, password: 'pw', scheme: 'md5' });
    for (let i = 0; i < ops; i++) await server.service.queue(deviceId, { kind: 'Get', path: './DevInfo/Mod' });
  }
  await profileFromNow();
  console.log(url);
}
process.on('SIGINT', () => void stopProfile().then(() => process.exit(0)));
// the bench asks for our CPU time around each measured round
process.on('message', (m) => {
  if (m !== 'cpu') return;
  const { user, system } = process.cpuUsage();
  process.send?.({ cpu: user + system });
});

/** GWMO_BENCH_PROFILE=dir: a CPU profile of the load only (not of the setup above). */
async function profileFromNow(): Promise<void> {
  const dir = process.env['GWMO_BENCH_PROFILE'];
  if (!dir) return;
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  stopProfile = async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(dir, `server-${process.pid}.cpuprofile`), JSON.stringify(profile));
  };
}
