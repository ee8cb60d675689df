// Every command's --help ends with an Examples section, and every example
// parses: its subcommand, options and arguments go through the program's own
// parser (commander, actions replaced so nothing runs), which rejects an
// unknown command or option and a missing argument.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { createProgram } from '../src/cli.js';
import { EXAMPLES, commandPath, exampleArgv } from '../src/commands/examples.js';
import { runCli } from './cli.js';

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** The program with every action a no-op and every message swallowed. */
function parsingProgram(): Command {
  const program = createProgram(() => {});
  for (const c of [program, ...allCommands(program)]) {
    c.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
    if (c !== program) c.action(() => {});
  }
  return program;
}

test('every command and subcommand has examples, at the end of its --help', () => {
  const program = createProgram(() => {});
  const commands = allCommands(program);
  assert.ok(commands.length >= 25, `only ${commands.length} commands found`);
  for (const cmd of [program, ...commands]) {
    const path = commandPath(cmd);
    const lines = EXAMPLES[path];
    assert.ok(lines && lines.length >= 2 && lines.length <= 3, `${path || 'nvmebench'}: needs two or three examples in src/commands/examples.ts`);
    const help = runCli([...path.split(' ').filter(Boolean), '--help']);
    assert.equal(help.code, 0, help.stderr);
    const tail = help.stdout.trimEnd().split('\n');
    const at = tail.lastIndexOf('Examples:');
    assert.ok(at > 0, `${path} --help has no Examples section:\n${help.stdout}`);
    assert.deepEqual(tail.slice(at + 1).map((l) => l.trim()), lines, `${path}: the examples end the help`);
  }
});

test('every example parses: its command, options and arguments exist', () => {
  let parsed = 0;
  for (const [path, lines] of Object.entries(EXAMPLES)) {
    for (const line of lines) {
      const argv = exampleArgv(line);
      if (path) assert.equal(argv.slice(0, path.split(' ').length).join(' '), path, `${line} is not an example of ${path}`);
      assert.doesNotThrow(() => parsingProgram().parse(['node', 'nvmebench', ...argv]), `${line} does not parse`);
      parsed++;
    }
  }
  assert.ok(parsed >= 50, `${parsed} examples`);
});

test('the check can fail: an unknown option or a missing argument does not parse', () => {
  assert.throws(() => parsingProgram().parse(['node', 'nvmebench', 'randread', '--queue-depth', '8', 'x']), /unknown option/);
  assert.throws(() => parsingProgram().parse(['node', 'nvmebench', 'regress', 'a.csv']), /missing required argument/);
  assert.deepEqual(exampleArgv('source <(nvmebench completion bash)'), ['completion', 'bash']);
  assert.deepEqual(exampleArgv('sudo nvmebench vfio bind 0000:00:04.0'), ['vfio', 'bind', '0000:00:04.0']);
  assert.deepEqual(exampleArgv('nvmebench lab --exec "lsblk -o NAME"'), ['lab', '--exec', 'lsblk -o NAME']);
});
