// A DM server, one simulated device (FUMO and SCOMO) and an HTTP server holding one package, on
// loopback: the server queues update commands, the device fetches the package and reports.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DmDevice } from '../../src/client/device.ts';
import { DmServer } from '../../src/server/dm-server.ts';
import type { NewOperation } from '../../src/server/service.ts';
import { SqliteServerStore } from '../../src/store/sqlite/server.ts';
import { type ServeCounters, serveFile } from '../../src/transport/index.ts';

export const DEVICE = 'IMEI:359881234567890';

export async function startUpdateRig(t: { after(fn: () => unknown): void }, size = 200_000) {
  const dir = mkdtempSync(join(tmpdir(), 'gwmo-upd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = randomBytes(size);
  const sha = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(dir, 'pkg'), bytes);
  const served: ServeCounters = { bytes: 0, requests: 0 };
  const files = createServer((req, res) => {
    if (req.url !== '/pkg') return void res.writeHead(404).end('no such package');
    void serveFile(req, res, { path: join(dir, 'pkg'), size, etag: sha }, served);
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => files.close(resolve)));
  const pkgUrl = `http://127.0.0.1:${(files.address() as { port: number }).port}/pkg`;

  const store = new SqliteServerStore(':memory:');
  const server = new DmServer({
    store,
    serverId: 'gwmo',
    ...(process.env['GWMO_TEST_LOG'] ? { log: (e: string, f: Record<string, unknown>) => console.error(e, f) } : {}),
  });
  const url = await server.start();
  t.after(async () => {
    await server.stop();
    await store.close();
  });
  await server.service.addDevice({
    deviceId: DEVICE,
    name: 'device',
    password: 'dev-secret',
    serverName: 'gwmo',
    serverPassword: 'srv-secret',
    scheme: 'md5',
  });
  const device = new DmDevice({
    deviceId: DEVICE,
    serverUrl: url,
    serverId: 'gwmo',
    username: 'device',
    password: 'dev-secret',
    serverPassword: 'srv-secret',
    auth: 'md5',
    encoding: 'xml',
    manufacturer: 'gwmo',
    model: 'sim-1',
    language: 'en',
    firmware: '1.0',
    checkInSeconds: 0,
  });
  t.after(() => device.stop());
  const s = server.service;

  /** Queues the commands, runs a session, and waits for the last one (an Exec) to be reported. */
  async function run(commands: readonly NewOperation[], timeoutMs = 20_000) {
    const ops = [];
    for (const c of commands) ops.push(await s.queue(DEVICE, c));
    const report = await device.session();
    if (report.end !== 'done') throw new Error(`session ended ${report.end}: ${report.error}`);
    const last = ops[ops.length - 1]!;
    const deadline = Date.now() + timeoutMs;
    // accepted (202): its Generic Alert comes in a session of the device's own
    let settled = await s.operation(last.id);
    while (settled.state === 'accepted') {
      const next = device.nextSession();
      const left = deadline - Date.now();
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(left, 0)).unref());
      if ((await Promise.race([next, timer])) === 'timeout') throw new Error(`no report of ${last.target} within ${timeoutMs} ms`);
      settled = await s.operation(last.id);
    }
    const alerts = await store.listAlerts(DEVICE);
    return {
      ops: await Promise.all(ops.map((o) => s.operation(o.id))),
      exec: settled,
      alert: alerts.find((a) => a.correlator === settled.correlator),
    };
  }
  return { device, server, store, bytes, sha, pkgUrl, served, run };
}
