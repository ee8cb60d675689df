// The progress line and colour, seen where a user sees them: on a
// pseudo-terminal from script(1) (util-linux/bsdutils), and through pipes.
// Real runs on a small file with psync; real results files for regress.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runCli } from './cli.js';
import { makeRepeats, tmpDir } from './fixtures.js';
import { EXPORTERS } from '../src/export/registry.js';
import { buildResults } from '../src/analysis/results.js';
import { drawBar, formatEta, RunProgress } from '../src/output/progress.js';
import { painterFor } from '../src/output/color.js';

const dir = tmpDir();
const file = join(dir, 'data');
execFileSync('truncate', ['-s', '4M', file]);
after(() => rmSync(dir, { recursive: true, force: true }));

const ESC = '\x1b[';
const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

/** Run nvmebench on a terminal; `redirect` is shell redirection for its streams. Returns what the terminal showed. */
function onTerminal(args: string[], redirect = '', env = ''): string {
  const cmd = `stty cols 120; ${env} ${[process.execPath, BIN, ...args].map(q).join(' ')} ${redirect}`;
  // regress exits 1 on a regression, and script -e passes that on: the output is what counts.
  return spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '' } }).stdout;
}

const run = ['randread', '--engine', 'psync,aio', '--runtime', '1', '--repeat', '2', file];

test('a matrix with repeats on a terminal shows the progress line with an ETA; --quiet and a pipe show none', { timeout: 120_000 }, () => {
  // stdout elsewhere, so what the terminal shows is stderr alone.
  const shown = onTerminal(run, `>${join(dir, 'out.txt')}`);
  assert.match(shown, /cell 1\/4 psync QD 1 #1 ▕[█░]+▏ \d+s left/, shown);
  assert.match(shown, /cell 4\/4 aio QD 32 #2 ▕/, shown);
  assert.match(readFileSync(join(dir, 'out.txt'), 'utf8'), /│ psync +│/, 'the table still goes to stdout');

  const quiet = onTerminal([...run, '--quiet'], `>/dev/null`);
  assert.doesNotMatch(quiet, /cell \d/, quiet);

  // stderr a pipe (a file), stdout the terminal: no progress line anywhere.
  const err = join(dir, 'err.txt');
  const piped = onTerminal(run, `2>${err}`);
  assert.doesNotMatch(piped + readFileSync(err, 'utf8'), /cell \d|▕/);
  const plain = runCli(run);
  assert.equal(plain.code, 0, plain.stderr);
  assert.doesNotMatch(plain.stderr, /cell \d|▕|\x1b/);
});

test('with --ios the ETA comes from the rate so far', { timeout: 120_000 }, () => {
  const shown = onTerminal(['randread', '--engine', 'psync', '--ios', '2000000', '--repeat', '2', file], '>/dev/null');
  assert.match(shown, /cell [12]\/2 psync QD 1 #[12] ▕[█░]+▏ (\d+s left|estimating)/, shown);
});

test('ETA arithmetic: the plan with --runtime, the rate with --ios', () => {
  assert.equal(formatEta(72_000), '1m12s');
  assert.equal(formatEta(45_400), '45s');
  assert.equal(formatEta(3_720_000), '1h02m');
  const off = painterFor({ isTTY: false });
  assert.equal(drawBar(0.5, off, 8), '▕████░░░░▏');
  // A fake terminal stream: RunProgress only writes to it.
  const sink = Object.assign(Object.create(process.stderr), { isTTY: true, columns: 100, write: () => true, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, clearScreenDown: () => true });
  const timed = new RunProgress({ runs: 4, runMs: 10_000 }, sink);
  timed.begin(1, 'uring QD 64');
  const now = Date.now();
  // Run 2 of 4 just begun: 3 runs of 10 s left.
  assert.ok(Math.abs(timed.remainingMs(now)! - 30_000) < 200, String(timed.remainingMs(now)));
  assert.match(timed.line(), /^cell 2\/4 uring QD 64 ▕/);
  timed.stop();
  const counted = new RunProgress({ runs: 2, runMs: 0, ioLimit: 1000 }, sink);
  counted.begin(0, 'psync QD 1');
  assert.equal(counted.remainingMs(), undefined, 'nothing done yet: no rate to go by');
  counted.tick({ ios: 500, ramping: false } as never);
  assert.equal(counted.fraction(), 0.25);
  counted.stop();
  // After the line is gone a log line is written at once, not kept for a redraw that never comes.
  const written: string[] = [];
  const late = new RunProgress({ runs: 1, runMs: 1000 }, Object.assign(Object.create(sink), { write: (t: string) => written.push(t) }));
  late.stop();
  late.log('nvmebench: restored\n');
  assert.equal(written.at(-1), 'nvmebench: restored\n');
});

function regressFiles(): [string, string] {
  const base = join(dir, 'base.json');
  const cur = join(dir, 'cur.json');
  writeFileSync(base, EXPORTERS.json.render(buildResults(makeRepeats([1000, 1010, 990, 1005]))));
  writeFileSync(cur, EXPORTERS.json.render(buildResults(makeRepeats([700, 705, 695, 702]))));
  return [base, cur];
}

test('colour: a terminal gets it, NO_COLOR and --color never take it away, --color always forces it', { timeout: 60_000 }, () => {
  const [base, cur] = regressFiles();
  const args = ['regress', base, cur, '--metric', 'iops'];
  const auto = onTerminal(args);
  assert.match(auto, /\x1b\[31mREGRESSION\x1b\[39m/, auto);
  assert.ok(!onTerminal(args, '', 'NO_COLOR=1').includes(ESC + '31m'), 'NO_COLOR=1 on a terminal');
  assert.ok(!onTerminal([...args, '--color', 'never']).includes(ESC + '31m'), '--color never on a terminal');
  assert.ok(onTerminal([...args, '--color', 'always'], '', 'NO_COLOR=1').includes(ESC + '31m'), '--color always wins over NO_COLOR');

  const piped = runCli(args);
  assert.equal(piped.code, 1);
  assert.match(piped.stdout, /REGRESSION/);
  assert.ok(!piped.stdout.includes(ESC), 'a pipe gets no colour');
  const forced = runCli(['--color', 'always', ...args]);
  assert.match(forced.stdout, /\x1b\[31mREGRESSION/);
  // The table stays aligned in colour: every drawn line as wide as the rule above it.
  const widths = new Set(forced.stdout.split('\n').filter((l) => /^[┌│├└]/.test(l)).map((l) => [...l.replace(/\x1b\[[0-9;]*m/g, '')].length));
  assert.equal(widths.size, 1, forced.stdout);

  const bad = runCli(['randread', '--qd', 'x', file, '--color', 'always']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^\x1b\[31mnvmebench:\x1b\[39m --qd/);
  const refused = runCli(['--color', 'sometimes', 'devices']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--color.*'sometimes' is invalid. Allowed choices are never, auto, always/);
});

test("the lab's download bar: bytes so far against the package's size, on a terminal only", { timeout: 60_000 }, () => {
  // A child that writes 6 × 200 KB over about 2 s stands in for apt-get download.
  const out = join(dir, 'fetched');
  const child = `for i in 1 2 3 4 5 6; do head -c 200000 /dev/zero >> ${out}; sleep 0.3; done`;
  const driver = join(dir, 'driver.mjs');
  writeFileSync(
    driver,
    `import fs from 'node:fs';
import { runWithProgress } from ${JSON.stringify(join(process.cwd(), 'dist/src/lab/fetch-progress.js'))};
const size = () => { try { return fs.statSync(${JSON.stringify(out)}).size; } catch { return 0; } };
const r = await runWithProgress('sh', ['-c', ${JSON.stringify(child)}], { quiet: false, what: 'kernel download', total: 1200000, measure: size });
process.exit(r.status ?? 9);
`,
  );
  const shown = spawnSync('script', ['-qec', `${q(process.execPath)} ${q(driver)}`, '/dev/null'], { encoding: 'utf8' });
  assert.equal(shown.status, 0, shown.stdout);
  const plain = shown.stdout.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(plain, /lab: kernel download ▕█+░*▏ [\d.]+ (KiB|MiB)\/1\.1 MiB \d+s left/, shown.stdout);
  rmSync(out, { force: true });
  const piped = spawnSync(process.execPath, [driver], { encoding: 'utf8' });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(piped.stderr + piped.stdout, '', 'no terminal, no bar');
});
