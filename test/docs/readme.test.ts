// README.md's shell blocks under "Manage a device", "A gateway with devices behind it" and "A secured LwM2M device", read from
// README.md at test time and run as written, in order, in one bash, in a fresh working directory
// (the README keeps its data under ./data). So a README that drifts from the code fails here.
//
// Actors: one bash (the reader's terminal) runs every line; a line that starts a long-running role
// (`npm run gwmo -- server|gateway|device …` or `npx gwmo …`) is that reader's other terminal: it runs
// as a gwmo process in the same directory with the shell's environment, and the next line waits until
// it is ready (its log says so). Lines whose effect comes later (a notification, a fanout, a staging)
// are followed by a wait on the event that ends it, as the reader waits for the device to answer.
//
// Ports: the README names 8080, 8081 (TCP) and 2948, 5683 (UDP) and relies on the defaults that match
// them, so substituting ports would no longer run it as written; when one is taken the test skips
// and says which.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { GwmoProcess, type LogLine } from '../support/process.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const SECTIONS = ['Manage a device', 'A gateway with devices behind it', 'A secured LwM2M device'];
const LONG_RUNNING = /^(?:npm run gwmo --|npx gwmo)\s+(server|gateway|device)\b(.*)$/;

interface Step {
  readonly line: string;
  /** the documented output after `# →`, as literal fragments between `…` and `<placeholders>` */
  readonly expect: readonly string[];
}

/** The ```sh blocks of a `## ` section, in order. */
function shBlocks(markdown: string, section: string): string[] {
  const start = markdown.indexOf(`\n## ${section}`);
  if (start < 0) return [];
  const end = markdown.indexOf('\n## ', start + 1);
  const text = markdown.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Commands of a block: continuation lines joined, comment lines dropped except `# →` expectations. */
function steps(block: string): Step[] {
  const out: { line: string; expect: string[] }[] = [];
  const fragments = (text: string): string[] =>
    text
      .split(/…|<[^>]*>/)
      .map((f) => f.trim())
      .filter((f) => f !== '');
  let pending = '';
  for (const raw of block.split('\n')) {
    if (pending === '' && /^\s*#/.test(raw)) {
      const arrow = /^\s*#\s*→\s*(.*)$/.exec(raw);
      if (arrow && out.length > 0) out[out.length - 1]!.expect.push(...fragments(arrow[1]!));
      continue;
    }
    const joined = pending + raw;
    if (/\\\s*$/.test(raw)) {
      pending = joined.replace(/\\\s*$/, ' ');
      continue;
    }
    pending = '';
    if (joined.trim() === '') continue;
    const inline = /\s#\s*→\s*(.*)$/.exec(joined);
    out.push({ line: joined.trim(), expect: inline ? fragments(inline[1]!) : [] });
  }
  return out;
}

/** One bash whose output per command is delimited by markers; curl reports each HTTP status on stderr. */
class Shell {
  readonly child: ChildProcess;
  private out = '';
  private err = '';
  private seq = 0;
  private wake: (() => void) | undefined;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c: Buffer) => ((this.out += c.toString()), this.wake?.()));
    this.child.stderr!.on('data', (c: Buffer) => ((this.err += c.toString()), this.wake?.()));
    this.child.on('exit', () => this.wake?.());
    this.child.stdin!.write(`curl() { command curl -w '%{stderr}\\n__HTTP__%{http_code}\\n' "$@"; }\n`);
  }

  run(command: string, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
    const marker = `__readme_step_${++this.seq}__`;
    this.child.stdin!.write(`${command}\nprintf '\\n${marker}%d\\n' $?; printf '\\n${marker}\\n' >&2\n`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => ((this.wake = undefined), reject(new Error(`no end of "${command}" within ${timeoutMs} ms:\n${this.out}\n${this.err}`))),
        timeoutMs,
      );
      this.wake = () => {
        const done = new RegExp(`\\n${marker}(\\d+)\\n`).exec(this.out);
        if (this.child.exitCode !== null) return (clearTimeout(timer), reject(new Error(`bash exited running "${command}"`)));
        if (!done || !this.err.includes(`\n${marker}\n`)) return;
        clearTimeout(timer);
        this.wake = undefined;
        const stdout = this.out.slice(0, done.index);
        const stderr = this.err.slice(0, this.err.indexOf(`\n${marker}\n`));
        this.out = this.out.slice(done.index + done[0].length);
        this.err = this.err.slice(this.err.indexOf(`\n${marker}\n`) + marker.length + 2);
        resolve({ code: Number(done[1]), stdout, stderr });
      };
      this.wake();
    });
  }

  async env(): Promise<Record<string, string>> {
    const { stdout } = await this.run('env -0');
    return Object.fromEntries(
      stdout
        .split('\0')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  }

  /** the words of `rest` as bash splits and expands them */
  async words(rest: string): Promise<string[]> {
    const { stdout } = await this.run(`printf '%s\\0' ${rest}`);
    return stdout.split('\0').filter((w) => w !== '');
  }

  close(): void {
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
  }
}

async function portFree(port: number, udp: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    if (udp) {
      const s = createSocket('udp4').once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    } else {
      const s = createServer().once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    }
  });
}

/** A process's log line, or a rejection with its stderr when it exits or the deadline passes. */
function ready(p: GwmoProcess, match: (l: LogLine) => boolean, what: string, timeoutMs = 30_000): Promise<LogLine> {
  const exited = new Promise<never>((_, reject) =>
    p.child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready: ${p.stderr}`))),
  );
  return Promise.race([p.waitFor(match, timeoutMs), exited]);
}

test('README: "Manage a device", the gateway walk-through and the secured LwM2M device run as written', { timeout: 120_000 }, async (t) => {
  const taken = [];
  for (const [port, udp] of [
    [8080, false],
    [8081, false],
    [2948, true],
    [5683, true],
    [8082, false],
    [5684, true],
    [5784, true],
  ] as const) {
    if (!(await portFree(port, udp))) taken.push(`${udp ? 'UDP' : 'TCP'} ${port}`);
  }
  if (taken.length > 0) {
    t.skip(`the README's ports are in use here (${taken.join(', ')}): free them to run its blocks as written`);
    return;
  }
  const all = SECTIONS.flatMap((s) => shBlocks(README, s).map((b) => ({ section: s, steps: steps(b) })));
  assert.ok(all.length >= 4, `the README's sections still hold their shell blocks (found ${all.length})`);

  const dir = await mkdtemp(join(tmpdir(), 'gwmo-readme-'));
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GWMO_')));
  const shell = new Shell(dir, env);
  const running = new Map<string, GwmoProcess>(); // by the line that started it
  const roles = (role: string): GwmoProcess[] => [...running].filter(([line]) => LONG_RUNNING.exec(line)?.[1] === role).map(([, p]) => p);
  const dmDevices = (): GwmoProcess[] =>
    [...running].filter(([line]) => LONG_RUNNING.exec(line)?.[1] === 'device' && !/--protocol lwm2m/.test(line)).map(([, p]) => p);
  try {
    for (const block of all) {
      for (const step of block.steps) {
        const long = LONG_RUNNING.exec(step.line);
        if (long) {
          if (running.has(step.line)) continue; // "the server (as above)": the reader's terminal still runs it
          const [, role, rest] = long;
          const p = new GwmoProcess([role!, ...(await shell.words(rest!))], [], await shell.env(), { cwd: dir });
          running.set(step.line, p);
          if (role === 'server') await ready(p, (l) => l.event === 'server.started', step.line);
          else if (role === 'gateway') await ready(p, (l) => l.event === 'north.session', step.line);
          else if (/--protocol lwm2m/.test(step.line)) {
            await ready(p, (l) => l.event === 'device.started', step.line);
            // the gateway reads object 3 after the Register before it lists the device: wait for that
            const id = /--device-id (\S+)/.exec(step.line)?.[1];
            // (the gateway started last: the secured section's second gateway)
            await ready(
              roles('gateway').at(-1)!,
              (l) => l.event === 'inventory.attached' && l['deviceId'] === id,
              `${id} in the gateway's inventory`,
            );
          } else await ready(p, (l) => l.event === 'session.end', step.line);
          continue;
        }
        // what the reader waits for before this line shows what the README says
        const fanout = /\/fanouts\/([^/'"?\s]+)['"]?\s*(?:#|$)/.exec(step.line);
        if (fanout && !/-X POST/.test(step.line)) {
          await ready(roles('gateway')[0]!, (l) => l.event === 'fanout.done' && l['job'] === fanout[1], `fanout ${fanout[1]}`);
        }
        if (/\/gateways\/[^/]+\/images'/.test(step.line) && !/-X POST/.test(step.line)) {
          await ready(
            roles('gateway')[0]!,
            (l) => l.event === 'alert.queued' && String(l['type']).includes('imageready'),
            'the staged image',
          );
        }
        const notified = /\/notify'/.test(step.line)
          ? Promise.any(dmDevices().map((d) => d.next((l) => l.event === 'session.end', 30_000)))
          : undefined;

        const r = await shell.run(step.line);
        if (process.env['GWMO_TEST_LOG']) console.log(step.line, '\n=>', r.stdout.slice(0, 600));
        const what = `${block.section}: ${step.line}\n${r.stdout}\n${r.stderr}`;
        assert.equal(r.code, 0, what);
        for (const code of r.stderr.matchAll(/__HTTP__(\d+)/g)) assert.match(code[1]!, /^2\d\d$/, what);
        let at = 0;
        for (const f of step.expect) {
          const found = r.stdout.indexOf(f, at);
          assert.ok(found >= 0, `the documented output "${f}" is missing: ${what}`);
          at = found + f.length;
        }
        if (notified) assert.equal((await notified)['end'], 'done', what);
      }
    }

    const api = 'http://127.0.0.1:8080/api';
    const headers = { authorization: (await shell.env())['AUTH']!.replace(/^authorization:\s*/, ''), 'content-type': 'application/json' };
    // "Other operations": every write reached the simulated device's nodes (an Exec may still await its alert)
    const ops = (await (await fetch(`${api}/devices/IMEI%3A359881234567890/operations?limit=100`, { headers })).json()) as {
      items: { kind: string; path: string; status: number | null }[];
    };
    const writes = ops.items.filter((o) => o.kind !== 'Get');
    assert.ok(writes.length >= 7, JSON.stringify(ops.items));
    for (const o of writes)
      assert.ok(o.status === 200 || (o.kind === 'Exec' && o.status === 202), `${o.kind} ${o.path}: DM status ${o.status}`);

    // the devices behind the gateway are manageable from their dashboard page (it runs device jobs)
    const where = await fetch(`${api}/devices/IMEI%3A1/location`, { headers });
    assert.equal(where.status, 200, await where.clone().text());
    assert.equal(((await where.json()) as { gatewayId: string }).gatewayId, 'GW:0001');
    const job = (await (
      await fetch(`${api}/devices/IMEI%3A1/jobs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ commands: [{ kind: 'Get', path: './DevInfo/Mod' }] }),
      })
    ).json()) as { id: string };
    const done = (await (await fetch(`${api}/jobs/${job.id}?wait=30`, { headers })).json()) as { state: string; status: number };
    assert.deepEqual([done.state, done.status], ['done', 200]);
  } finally {
    shell.close();
    for (const p of [...running.values()].reverse()) await p.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
