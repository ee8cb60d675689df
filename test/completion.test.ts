// `nvmebench completion bash|zsh|fish`: each script loads in its own shell and
// completes subcommands, engines (after a comma too) and choices. bash runs
// with bash-completion loaded, its completion function called with the
// COMP_* variables a Tab would set; fish answers `complete -C`; zsh calls the
// same function through its bash emulation. The shells come from .ci/run's
// install list: without one, its test fails rather than skips.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './cli.js';
import { tmpDir } from './fixtures.js';

const dir = tmpDir();
after(() => rmSync(dir, { recursive: true, force: true }));

function script(shell: string): string {
  const r = runCli(['completion', shell]);
  assert.equal(r.code, 0, r.stderr);
  const file = join(dir, `nvmebench.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

const BASH_COMPLETION = '/usr/share/bash-completion/bash_completion';

/** What bash offers for the line (the cursor at its end), with bash-completion loaded. */
function bashComplete(file: string, line: string): string[] {
  const drive = `
source ${BASH_COMPLETION}
source ${file}
complete -p nvmebench >/dev/null || exit 3
COMP_LINE=$1; COMP_POINT=\${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_nvmebench
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', drive, 'drive', line], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, `bash: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).sort();
}

test('bash: the script loads with bash-completion and completes commands, engines, choices and files', () => {
  assert.ok(existsSync(BASH_COMPLETION), 'bash-completion is missing: apt-get install bash-completion (.ci/run does)');
  const file = script('bash');
  assert.equal(spawnSync('bash', ['-n', file]).status, 0, 'the script parses');
  assert.deepEqual(bashComplete(file, 'nvmebench rand'), ['randread', 'randrw', 'randwrite']);
  assert.deepEqual(bashComplete(file, 'nvmebench randread --engine p'), ['psync', 'pt', 'pt-poll']);
  assert.deepEqual(bashComplete(file, 'nvmebench randread --engine uring,p'), ['uring,psync', 'uring,pt', 'uring,pt-poll']);
  assert.deepEqual(bashComplete(file, 'nvmebench randread --format '), ['csv', 'json', 'md', 'table']);
  assert.deepEqual(bashComplete(file, 'nvmebench randread --ram'), ['--ramp']);
  // A root option before the subcommand, with its value, is stepped over.
  assert.deepEqual(bashComplete(file, 'nvmebench --color never vfio '), ['bind', 'status', 'unbind']);
  assert.deepEqual(bashComplete(file, 'nvmebench regress --color n'), ['never']);
  assert.deepEqual(bashComplete(file, 'nvmebench completion '), ['bash', 'fish', 'zsh']);
  assert.deepEqual(bashComplete(file, 'nvmebench regress a.csv b.csv --metric iops,lat_p9'), ['iops,lat_p90_us', 'iops,lat_p999_us', 'iops,lat_p99_us']);
  assert.ok(bashComplete(file, 'nvmebench profile ').includes('seed001-kiops'), 'built-in profile names');
  // A target is a file too; an option's value is not taken for the target.
  writeFileSync(join(dir, 'scratch.dat'), '');
  assert.deepEqual(bashComplete(file, 'nvmebench randread --qd 8 scr'), ['scratch.dat']);
  assert.deepEqual(bashComplete(file, 'nvmebench randread --qd scr'), [], '--qd takes a number: nothing to offer');
});

test('fish: the script parses and `complete -C` offers commands and engines', () => {
  const fish = spawnSync('fish', ['--version']);
  assert.equal(fish.status, 0, 'fish is missing: apt-get install fish (.ci/run does)');
  const file = script('fish');
  assert.equal(spawnSync('fish', ['-n', file]).status, 0, 'the script parses');
  const ask = (line: string): string[] =>
    execFileSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0])
      .sort();
  assert.deepEqual(ask('nvmebench rand'), ['randread', 'randrw', 'randwrite']);
  assert.deepEqual(ask('nvmebench randread --engine p'), ['psync', 'pt', 'pt-poll']);
  assert.deepEqual(ask('nvmebench randread --engine uring,p'), ['uring,psync', 'uring,pt', 'uring,pt-poll']);
  assert.deepEqual(ask('nvmebench vfio '), ['bind', 'status', 'unbind']);
});

test('zsh: the script loads after compinit and its function offers commands and engines', () => {
  const zsh = spawnSync('zsh', ['--version']);
  assert.equal(zsh.status, 0, 'zsh is missing: apt-get install zsh (.ci/run does)');
  const file = script('zsh');
  assert.equal(spawnSync('zsh', ['-n', file]).status, 0, 'the script parses');
  // zsh's own matching filters by prefix after the function (bashcompinit's compgen does not): do the same here.
  const ask = (words: string[]): string[] => {
    const drive = `autoload -U compinit && compinit -u -D
source ${file}
comp() { emulate -L sh; setopt kshglob noshglob braceexpand; COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _nvmebench; print -l -- "\${COMPREPLY[@]}"; }
comp ${words.map((w) => `'${w}'`).join(' ')}`;
    const r = spawnSync('zsh', ['-f', '-c', drive], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, `zsh: ${r.stderr}`);
    const cur = words[words.length - 1];
    return r.stdout.split('\n').filter((w) => w && w.startsWith(cur)).sort();
  };
  assert.deepEqual(ask(['nvmebench', 'rand']), ['randread', 'randrw', 'randwrite']);
  assert.deepEqual(ask(['nvmebench', 'randread', '--engine', 'p']), ['psync', 'pt', 'pt-poll']);
  assert.deepEqual(ask(['nvmebench', '--color', 'never', 'vfio', '']), ['bind', 'status', 'unbind']);
});

test('completion for an unknown shell is a usage error naming the shells', () => {
  const r = runCli(['completion', 'tcsh']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^nvmebench: no completion for the shell "tcsh".*bash, zsh, fish/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
