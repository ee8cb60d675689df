// The results table on a terminal fits its width; a pipe gets every column.
// A pseudo-terminal from script(1), sized with stty: stdout.columns is only
// set when stdout is a TTY (COLUMNS alone does not reach it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runCli } from './cli.js';
import { tmpDir } from './fixtures.js';

const dir = tmpDir();
const file = join(dir, 'data');
execFileSync('truncate', ['-s', '4M', file]);
after(() => rmSync(dir, { recursive: true, force: true }));

// script(1) is in bsdutils, which every Debian has; without it this test fails rather than skips.
const hasScript = (() => {
  try {
    execFileSync('script', ['-qec', 'true', '/dev/null']);
    return true;
  } catch {
    return false;
  }
})();

function onTerminal(cols: number, args: string[]): string {
  const cmd = `stty cols ${cols}; ${[process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ')}`;
  return execFileSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' }).replace(/\r\n/g, '\n');
}

const run = ['randread', '--engine', 'psync', '--ios', '200', '--quiet', file];

test('on an 80-column terminal the table fits and says what it left out; --wide and pipes show every column', () => {
  assert.ok(hasScript, 'script(1) is missing: install bsdutils');
  const narrow = onTerminal(80, run);
  const drawn = narrow.split('\n').filter((l) => /^[┌│├└]/.test(l));
  assert.ok(drawn.length > 0, narrow);
  for (const line of drawn) assert.ok([...line].length <= 80, `wider than 80: ${line}\n${narrow}`);
  assert.match(narrow, /│ engine │.*│ +QD │.*│ +IOPS │.*│ +p50 µs │ +p99 µs │ +CPU ns\/IO │/, narrow);
  assert.match(narrow, /^left out to fit 80 columns: IOs\/call, .* \(--wide shows every column\)$/m, narrow);

  const wide = onTerminal(80, [...run, '--wide']);
  assert.match(wide, /│ IOs\/call │/, wide);
  assert.doesNotMatch(wide, /left out/);

  const piped = runCli(run);
  assert.equal(piped.code, 0, piped.stderr);
  // A header is padded when a figure is wider than it (a 200-I/O run can show usr% above 100: rusage's granularity).
  assert.match(piped.stdout, /│ +mean µs │ +p50 µs │ +p99 µs │ +p99\.9 µs │ +max µs │ +usr% │ +sys% │ +CPU ns\/IO │ +sys CPU\/IO │ +IOs\/call │/);
  assert.doesNotMatch(piped.stdout, /left out/);
});
