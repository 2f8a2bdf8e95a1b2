// `gwmo --help` names every registered command with its description; `--help` works on each of them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { type Command, CommanderError } from 'commander';

import { gwmoProgram } from '../../src/cli/program.ts';
import { runCli } from '../support/cli.ts';

const flat = (text: string): string => text.replace(/\s+/g, ' ');

/** every command under `c`, with the words typed to reach it */
function all(c: Command, path: string[] = []): { path: string[]; cmd: Command }[] {
  return c.commands.flatMap((sub) => [{ path: [...path, sub.name()], cmd: sub }, ...all(sub, [...path, sub.name()])]);
}

test('gwmo --help lists every registered command with its description', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  const help = flat(r.stdout.toString());
  const commands = gwmoProgram().commands;
  assert.ok(commands.length >= 8);
  for (const c of commands) {
    assert.ok(c.description().length > 0, `${c.name()} has a description`);
    assert.ok(help.includes(`${c.name()} `) && help.includes(flat(c.description())), `gwmo --help names ${c.name()}: ${c.description()}`);
  }
});

test('gwmo <command> --help exits 0 and describes the command, for every command and subcommand', async () => {
  const commands = all(gwmoProgram());
  assert.ok(commands.length > 15, 'subcommands of codec, notification and gateways are included');
  for (const { path } of commands) {
    // a fresh program each time: commander keeps parsed state on the instance
    const program = gwmoProgram();
    let out = '';
    for (const c of [program, ...all(program).map((x) => x.cmd)])
      c.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
    const code = await program.parseAsync([...path, '--help'], { from: 'user' }).then(
      () => 'returned',
      (err: unknown) => (err instanceof CommanderError ? err.exitCode : err),
    );
    assert.equal(code, 0, `gwmo ${path.join(' ')} --help: ${String(code)} ${out}`);
    const cmd = all(program).find((x) => x.path.join(' ') === path.join(' '))!.cmd;
    assert.ok(cmd.description().length > 0, `gwmo ${path.join(' ')} has a description`);
    assert.match(out, new RegExp(`^Usage: gwmo ${path.join(' ')}`), path.join(' '));
    assert.ok(flat(out).includes(flat(cmd.description())), `gwmo ${path.join(' ')} --help shows its description`);
  }
});
