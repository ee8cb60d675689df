// Hostile exports: odd output paths (the target itself, device nodes, FIFOs,
// symlinks, directories, read-only and full filesystems) and runs sharing one
// CSV. Device nodes are made with mknod in a temp directory (the same majors as
// /dev/null and /dev/full), so a regression cannot replace the real ones.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
  createReadStream,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, runCli, type CliResult } from '../cli.js';
import { makeRecord, tmpDir } from '../fixtures.js';
import { csvHeaderLine, toCsv } from '../../src/export/csv.js';
import { parseCsvRecords } from '../../src/export/csv-read.js';
import { toJson } from '../../src/export/json.js';
import { SCHEMA_VERSION } from '../../src/model.js';

const RUN = ['randread', '--engine', 'psync', '--ios', '200', '--quiet'];

// Every temp directory goes at the end (mounts are undone by withTmpfs first).
const dirs: string[] = [];
function scratch(): string {
  const dir = tmpDir('nvmebench-exports-');
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A 1 MiB file to benchmark, and the directory it lives in. */
function targetFile(): { dir: string; target: string; bytes: Buffer } {
  const dir = scratch();
  const target = join(dir, 'victim.dat');
  const bytes = Buffer.alloc(1 << 20, 0xa5);
  writeFileSync(target, bytes);
  return { dir, target, bytes };
}

function mknod(path: string, type: 'c' | 'b', major: number, minor: number): string {
  execFileSync('mknod', [path, type, String(major), String(minor)]);
  return path;
}

/** One line on stderr, no trace, no "internal error". */
function assertOneLine(r: CliResult, re: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('nvmebench:') && !/results written to/.test(l));
  assert.ok(lines.some((l) => re.test(l)), `stderr should match ${re}:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, r.stderr);
}

function tmpLeftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

function withTmpfs<T>(dir: string, options: string, fn: () => T): T {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  try {
    return fn();
  } finally {
    spawnSync('umount', [dir]);
  }
}

// ---------------------------------------------------------------------------
// Defect 1: the export path is the target, a device node, a symlink or a FIFO.

test('an export path that is the target is refused before the run, and the target is untouched', () => {
  const { dir, target, bytes } = targetFile();
  symlinkSync(target, join(dir, 'link.dat'));
  execFileSync('ln', [target, join(dir, 'hard.dat')]);
  for (const [flag, path] of [
    ['--json', target],
    ['--csv', target],
    ['--md', target],
    ['--plot', target],
    ['--json', join(dir, 'link.dat')],
    ['--csv', join(dir, 'hard.dat')],
  ]) {
    const r = runCli([...RUN, target, flag, path]);
    assert.equal(r.code, 2, `${flag} ${path}: ${r.stderr}`);
    assertOneLine(r, /is the benchmark target/);
    assert.equal(r.stdout, '', 'refused before the run');
    assert.ok(readFileSync(target).equals(bytes), `${flag} ${path} left the target alone`);
  }
  assert.ok(lstatSync(join(dir, 'link.dat')).isSymbolicLink());
});

test('an export path that is a block device is refused before the run', () => {
  const { dir, target } = targetFile();
  const blk = mknod(join(dir, 'blk'), 'b', 7, 250);
  const r = runCli([...RUN, target, '--json', blk]);
  assert.equal(r.code, 2, r.stderr);
  assertOneLine(r, /is a block device/);
  assert.ok(lstatSync(blk).isBlockDevice(), 'the node stays a block device');
});

test('--json, --md and --csv to a character device write through and leave the node alone', () => {
  const { dir, target } = targetFile();
  const devNull = mknod(join(dir, 'null'), 'c', 1, 3);
  for (const flag of ['--json', '--md', '--csv']) {
    const r = runCli([...RUN, target, flag, devNull]);
    assert.equal(r.code, 0, `${flag}: ${r.stderr}`);
    assert.match(r.stdout, /psync/);
    assert.ok(lstatSync(devNull).isCharacterDevice(), `${flag} left a character device`);
  }
  assert.deepEqual(tmpLeftovers(dir), []);
});

test('an export to /dev/stdout goes to stdout and does not hang', () => {
  const { target } = targetFile();
  const r = runCli([...RUN, target, '--csv', '/dev/stdout'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(csvHeaderLine()), 'header on stdout');
  assert.ok(lstatSync('/dev/stdout').isSymbolicLink());
  const j = runCli([...RUN, target, '--json', '/dev/stdout'], { timeoutMs: 30_000 });
  assert.equal(j.code, 0, j.stderr);
  assert.match(j.stdout, new RegExp(`"schemaVersion": ${SCHEMA_VERSION}`));
});

test('--json to a symlink replaces what it points to and keeps the link; a dangling link gets its target', () => {
  const { dir, target } = targetFile();
  const real = join(dir, 'real.json');
  writeFileSync(real, 'old');
  const link = join(dir, 'link.json');
  symlinkSync('real.json', link);
  const r = runCli([...RUN, target, '--json', link]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  assert.equal(readlinkSync(link), 'real.json');
  assert.match(readFileSync(real, 'utf8'), /"schemaVersion"/);

  const dangling = join(dir, 'dangling.md');
  symlinkSync('made.md', dangling);
  const d = runCli([...RUN, target, '--md', dangling]);
  assert.equal(d.code, 0, d.stderr);
  assert.ok(lstatSync(dangling).isSymbolicLink());
  assert.match(readFileSync(join(dir, 'made.md'), 'utf8'), /\| psync \|/);
  assert.deepEqual(tmpLeftovers(dir), []);
});

/** Run the CLI with a reader on a FIFO; returns what the reader saw. */
async function runWithFifoReader(args: string[], fifo: string): Promise<{ r: CliResult; read: string }> {
  const chunks: Buffer[] = [];
  const reader = createReadStream(fifo);
  reader.on('data', (c) => chunks.push(c as Buffer));
  const readDone = new Promise<void>((resolve) => reader.on('close', () => resolve()));
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  clearTimeout(timer);
  await readDone;
  return { r: { code, stdout, stderr }, read: Buffer.concat(chunks).toString('utf8') };
}

test('--csv and --json to a FIFO with a reader: the reader gets the export, the FIFO stays a FIFO', async () => {
  const { dir, target } = targetFile();
  const fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const csv = await runWithFifoReader([...RUN, '--qd', '1', '--engine', 'psync,aio', target, '--csv', fifo], fifo);
  assert.equal(csv.r.code, 0, csv.r.stderr);
  assert.equal(csv.read.split(csvHeaderLine()).length - 1, 1, 'one header');
  assert.equal(parseCsvRecords(csv.read).length, 2, 'both rows');
  assert.ok(lstatSync(fifo).isFIFO());
  const json = await runWithFifoReader([...RUN, target, '--json', fifo], fifo);
  assert.equal(json.r.code, 0, json.r.stderr);
  assert.equal(JSON.parse(json.read).records.length, 1, 'one whole JSON document');
  assert.ok(lstatSync(fifo).isFIFO());
});

// ---------------------------------------------------------------------------
// Defect 2: runs started together into one new CSV.

test('8 runs started together into one new CSV keep every row under one header', async () => {
  const { dir, target } = targetFile();
  const csv = join(dir, 'shared.csv');
  const runs = Array.from({ length: 8 }, () =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...RUN, target, '--csv', csv], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
    }),
  );
  const results = await Promise.all(runs);
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(csv, 'utf8');
  assert.equal(text.split(csvHeaderLine()).length - 1, 1, 'a single header');
  assert.ok(text.startsWith(csvHeaderLine()));
  assert.equal(parseCsvRecords(text).length, 8, 'every run kept its row');
});

// ---------------------------------------------------------------------------
// Defects 3 and 5: check export paths before the run; report a failed export in one line.

test('export paths that cannot be written are refused before the run, in one line, exit 2', () => {
  const { dir, target } = targetFile();
  const adir = join(dir, 'adir');
  mkdirSync(adir);
  const plain = join(dir, 'plain.txt');
  writeFileSync(plain, 'x');
  const cases: Array<[string[], RegExp]> = [
    [['--json', adir], /adir is a directory/],
    [['--csv', adir], /adir is a directory/],
    [['--md', adir], /adir is a directory/],
    [['--plot', adir], /adir is a directory/],
    [['--csv', join(plain, 'r.csv')], /plain\.txt is not a directory/],
    [['--json', join(plain, 'sub', 'r.json')], /plain\.txt is not a directory/],
  ];
  for (const [args, re] of cases) {
    const started = Date.now();
    const r = runCli([...RUN, '--runtime', '2', '--ios', '1000000000', target, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assertOneLine(r, re);
    assert.equal(r.stdout, '', 'nothing ran');
    assert.ok(Date.now() - started < 1900, 'refused before the 2 s run');
  }
  assert.deepEqual(tmpLeftovers(dir), []);
  assert.deepEqual(tmpLeftovers(adir), []);
});

test('a read-only working directory: the default results/ is refused before the run', () => {
  const { target } = targetFile();
  const r = runCli([...RUN, target, '--csv', '--json'], { cwd: '/proc' });
  assert.equal(r.code, 2, r.stderr);
  assertOneLine(r, /results/);
  assert.equal(r.stdout, '');
});

test('an export on a read-only filesystem is refused before the run (EROFS), in one line', () => {
  const { dir, target } = targetFile();
  const ro = join(dir, 'ro');
  withTmpfs(ro, 'ro,size=64k', () => {
    for (const flag of ['--json', '--csv', '--md']) {
      const r = runCli([...RUN, target, flag, join(ro, 'out', 'r.x')]);
      assert.equal(r.code, 2, `${flag}: ${r.stderr}`);
      assertOneLine(r, /read-only/);
      assert.equal(r.stdout, '');
    }
  });
});

test('an export that fails mid-run (ENOSPC on a full device) is one line; the table still prints; exit 1', () => {
  const { dir, target } = targetFile();
  const full = mknod(join(dir, 'full'), 'c', 1, 7);
  const okCsv = join(dir, 'ok.csv');
  const okJson = join(dir, 'ok.json');
  for (const [flag, other] of [['--csv', ['--json', okJson]], ['--json', ['--csv', okCsv]], ['--md', ['--csv', okCsv]]] as const) {
    const r = runCli([...RUN, target, flag, full, ...other]);
    assert.equal(r.code, 1, `${flag}: ${r.stderr}`);
    assert.match(r.stdout, /psync/, 'the table is printed');
    assertOneLine(r, /no space left/i);
    assert.match(r.stderr, new RegExp(`results written to ${other[1]}`));
    assert.ok(lstatSync(full).isCharacterDevice());
  }
  assert.equal(JSON.parse(readFileSync(okJson, 'utf8')).records.length, 1, 'the other export was written');
  assert.equal(parseCsvRecords(readFileSync(okCsv, 'utf8')).length, 2, 'the other export kept every row');
});

test('a CSV row that does not fit (ENOSPC) is not written at all: the file stays readable by regress', () => {
  const { dir, target } = targetFile();
  const mnt = join(dir, 'small');
  withTmpfs(mnt, 'size=64k', () => {
    // A CSV ending 100 bytes short of a page, then a full filesystem: the next
    // row gets a short write.
    const csv = join(mnt, 'r.csv');
    const base = toCsv([makeRecord({ errorMessage: '' })]);
    const pad = 4096 - 100 - base.length;
    const text = toCsv([makeRecord({ errorMessage: 'p'.repeat(pad) })]);
    assert.equal(text.length, 4096 - 100);
    writeFileSync(csv, text);
    spawnSync('sh', ['-c', `dd if=/dev/zero of=${join(mnt, 'fill')} bs=4k 2>/dev/null; true`]);
    const r = runCli([...RUN, target, '--csv', csv]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /psync/, 'the table is printed');
    assertOneLine(r, /no space left/i);
    assert.equal(readFileSync(csv, 'utf8'), text, 'no partial row');
    assert.equal(parseCsvRecords(readFileSync(csv, 'utf8')).length, 1);
    assert.deepEqual(tmpLeftovers(mnt), []);
    // JSON on the same full filesystem: one line, no temp file left behind.
    const j = runCli([...RUN, target, '--json', join(mnt, 'r.json')]);
    assert.equal(j.code, 1, j.stderr);
    assert.match(j.stdout, /psync/);
    assertOneLine(j, /no space left/i);
    assert.deepEqual(tmpLeftovers(mnt), []);
    assert.equal(existsSync(join(mnt, 'r.json')), false);
  });
});

test('--series-csv on a full filesystem: said once over several cells, never claimed written, exit 1; to /dev/full: lost, one line', () => {
  const { dir, target } = targetFile();
  const mnt = join(dir, 'series');
  withTmpfs(mnt, 'size=16k', () => {
    spawnSync('sh', ['-c', `dd if=/dev/zero of=${join(mnt, 'fill')} bs=4k 2>/dev/null; true`]);
    const csv = join(mnt, 's.csv');
    // Two engines: two cells, so the whole file is rewritten (and fails) twice.
    const r = runCli(['randread', '--engine', 'psync,aio', '--runtime', '300ms', '--interval', '100ms', '--quiet', '--series-csv', csv, target]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /psync/, 'the table is printed');
    assert.match(r.stdout, /aio/);
    const said = r.stderr.split('\n').filter((l) => /no space left/i.test(l));
    assert.equal(said.length, 1, `said once, not per cell:\n${r.stderr}`);
    assert.match(said[0], /the time series there lacks this cell/);
    assert.doesNotMatch(r.stderr, /time series written to/, 'a series that is not there is not claimed');
    assert.equal(existsSync(csv), false);
    assert.deepEqual(tmpLeftovers(mnt), []);
  });
  const full = mknod(join(dir, 'full'), 'c', 1, 7);
  const r = runCli(['randread', '--engine', 'psync', '--runtime', '300ms', '--interval', '100ms', '--quiet', '--series-csv', full, target]);
  assert.equal(r.code, 1, r.stderr);
  assertOneLine(r, /no space left on the device; the time series is lost/);
  assert.doesNotMatch(r.stderr, /time series written to/);
});

test('plot -o and regress --md to a directory or under a file: one line, exit 2', () => {
  const dir = scratch();
  const results = join(dir, 'r.json');
  writeFileSync(results, toJson([makeRecord()]));
  const plain = join(dir, 'plain.txt');
  writeFileSync(plain, 'x');
  const p = runCli(['plot', results, '-o', dir]);
  assert.equal(p.code, 2, p.stderr);
  assertOneLine(p, /is a directory/);
  const q = runCli(['plot', results, '-o', join(plain, 'c.svg')]);
  assert.equal(q.code, 2, q.stderr);
  assertOneLine(q, /plain\.txt is not a directory/);
  const g = runCli(['regress', results, results, '--md', dir]);
  assert.equal(g.code, 2, g.stderr);
  assertOneLine(g, /is a directory/);
  assert.deepEqual(tmpLeftovers(dir), []);
});

test('CSV to an ordinary file: the bytes are the header and rows, appended under the same header', () => {
  const { dir, target } = targetFile();
  const csv = join(dir, 'r.csv');
  assert.equal(runCli([...RUN, target, '--csv', csv]).code, 0);
  assert.equal(runCli([...RUN, target, '--csv', csv]).code, 0);
  const text = readFileSync(csv, 'utf8');
  assert.ok(text.startsWith(csvHeaderLine()));
  assert.equal(text.split(csvHeaderLine()).length - 1, 1);
  assert.equal(parseCsvRecords(text).length, 2);
  const other = join(dir, 'other.csv');
  writeFileSync(other, 'a,b\n1,2\n');
  const r = runCli([...RUN, target, '--csv', other]);
  assert.equal(r.code, 2);
  assertOneLine(r, /different CSV header/);
  assert.equal(readFileSync(other, 'utf8'), 'a,b\n1,2\n');
  assert.ok(statSync(csv).isFile());
});
