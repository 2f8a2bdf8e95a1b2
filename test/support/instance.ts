// A `gwmo server` process on a shared database, with its API called as admin (scale-out tests).
import { GwmoProcess, AUTH } from './process.ts';

export interface Instance {
  readonly proc: GwmoProcess;
  readonly api: string;
  readonly dm: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
}

export async function startInstance(db: string, dataDir: string, extra: readonly string[] = []): Promise<Instance> {
  const proc = new GwmoProcess(['server', '--port', '0', '--db', db, '--data-dir', dataDir, '--server-id', 'gwmo', ...extra]);
  const started = await proc.waitFor((l) => l.event === 'server.started', 30_000);
  // with --public-url (a load balancer's), the instance itself is at `listen`
  const own = started['listen'] === undefined ? undefined : String(started['listen']);
  const api = own ? own.replace(/\/dm$/, '/api') : String(started['api']);
  return {
    proc,
    api,
    dm: own ?? String(started['dm']),
    async call(method, path, body) {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { ...AUTH, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: res.status === 204 ? undefined : await res.json() };
    },
  };
}
