// regress and plot on hostile results files: garbage is exit 2 naming the file,
// row and column, never "no data" with exit 0; large files stay linear; a bug
// is exit 70, never 1 (which CI reads as a regression).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import { ROOT, runCli } from '../cli.js';
import { makeRecord, tmpDir } from '../fixtures.js';
import { csvHeaderLine, recordToCsvLine, toCsv } from '../../src/export/csv.js';
import { toJson } from '../../src/export/json.js';
import { reportError } from '../../src/cli.js';
import { EXIT_INTERNAL } from '../../src/errors.js';
import { drawTable } from '../../src/output/render.js';

const CORPUS = join(ROOT, 'test', 'hostile', 'corpus');

function oneLineError(r: { code: number; stdout: string; stderr: string }, file: string): void {
  assert.equal(r.code, 2, `${file}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${file}: one line, got:\n${r.stderr}`);
  assert.match(lines[0], /^nvmebench: /);
  assert.ok(lines[0].includes(file), `${file}: the message names the file: ${lines[0]}`);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
}

test('regress: a garbage metric in a row with status ok is exit 2 naming file, row and column', () => {
  const dir = tmpDir();
  const good = join(dir, 'good.csv');
  writeFileSync(good, toCsv([makeRecord()]));
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /line 2, column iops: empty in a row with status ok/],
    ['infinite', 'Infinity', /line 2, column iops: Infinity is not finite/],
    ['negative', '-5', /line 2, column iops: -5 is negative/],
    ['text', 'fast', /line 2: column iops holds "fast", not a number/],
  ];
  for (const [name, value, expected] of cases) {
    const bad = join(dir, `${name}.csv`);
    writeFileSync(bad, toCsv([makeRecord()]).replace(/,500000,/, `,${value},`));
    const r = runCli(['regress', good, bad, '--metric', 'iops']);
    oneLineError(r, bad);
    assert.match(r.stderr, expected);
  }
  // JSON: null (what NaN becomes), a string, a negative number.
  const doc = JSON.parse(toJson([makeRecord()]));
  for (const [name, value, expected] of [
    ['null', null, /record 1, lat_p99_us: null in a row with status ok/],
    ['string', '12', /record 1, latency.p99Us: "12" is not a number/],
    ['negative', -3, /record 1, lat_p99_us: -3 is negative/],
  ] as Array<[string, unknown, RegExp]>) {
    const bad = join(dir, `${name}.json`);
    writeFileSync(bad, JSON.stringify({ ...doc, records: [{ ...doc.records[0], latency: { ...doc.records[0].latency, p99Us: value } }] }));
    const r = runCli(['regress', good, bad, '--metric', 'iops,lat_p99_us']);
    oneLineError(r, bad);
    assert.match(r.stderr, expected);
  }
});

test('regress: a failed run may leave its figures empty; it is "now fails", not bad input', () => {
  const dir = tmpDir();
  const base = join(dir, 'base.csv');
  const cur = join(dir, 'cur.csv');
  writeFileSync(base, toCsv([makeRecord()]));
  const failed = makeRecord({ status: 'failed', errorMessage: 'EIO', iops: NaN, cpuNsPerIo: NaN, latency: { p99Us: NaN } });
  writeFileSync(cur, toCsv([failed]));
  const r = runCli(['regress', base, cur]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /NOW FAILS/);
});

test('regress: --metric iops,iops counts each regression once', () => {
  const dir = tmpDir();
  const base = join(dir, 'base.csv');
  const cur = join(dir, 'cur.csv');
  writeFileSync(base, toCsv([makeRecord()]));
  writeFileSync(cur, toCsv([makeRecord({ iops: 400_000 })]));
  const r = runCli(['regress', base, cur, '--metric', 'iops, iops,iops']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^1 regression, /m);
  assert.equal(r.stdout.match(/REGRESSION/g)?.length, 1);
});

test('regress and plot: every file of the malformed corpus is exit 2, one line naming the file', () => {
  const files = readdirSync(CORPUS).sort();
  assert.ok(files.length >= 20, 'the corpus is there');
  const good = join(tmpDir(), 'good.csv');
  writeFileSync(good, toCsv([makeRecord(), makeRecord({ engine: 'pt' })]));
  for (const name of files) {
    const file = join(CORPUS, name);
    oneLineError(runCli(['regress', good, file]), file);
    oneLineError(runCli(['regress', file, good]), file);
    // plot draws one metric: give it the one the file spoils.
    const what = name.includes('p99') ? ['--latency'] : name.includes('cpu') ? ['--metric', 'cpu_ns_per_io'] : [];
    oneLineError(runCli(['plot', file, ...what, '-o', join(tmpDir(), 'x.svg')]), file);
  }
});

test('regress: a CRLF file with a BOM reads like any other', () => {
  const dir = tmpDir();
  const base = join(dir, 'base.csv');
  const cur = join(dir, 'cur.csv');
  writeFileSync(base, toCsv([makeRecord()]));
  writeFileSync(cur, '\uFEFF' + toCsv([makeRecord()]).replace(/\n/g, '\r\n'));
  const r = runCli(['regress', base, cur]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /0 regressions, 0 improvements, 3 unchanged/);
});

test('an internal error is exit 70, never 1 (CI reads 1 as a regression)', () => {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.equal(reportError(new RangeError('Maximum call stack size exceeded')), EXIT_INTERNAL);
    assert.equal(EXIT_INTERNAL, 70);
  } finally {
    process.stderr.write = write;
  }
});

test('drawTable draws what cli-table3 drew, in linear time', () => {
  const models = [
    { headers: ['a', 'Δ µs', 'p'], align: ['left', 'right', 'right'] as Array<'left' | 'right'>, rows: [['x', '1.2 ± 0.3', '-'], ['longer label', '', '0.001']] },
    { headers: ['a', 'b'], align: ['left', 'right'] as Array<'left' | 'right'>, rows: [] },
    { headers: ['a', 'b'], align: ['left', 'right'] as Array<'left' | 'right'>, rows: [['two\nlines', 'z'], ['', '']] },
  ];
  for (const m of models) {
    const t = new Table({ head: m.headers, colAligns: m.align, style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1, compact: true } });
    for (const r of m.rows) t.push(r);
    assert.equal(drawTable(m), t.toString());
  }
  const rows = Array.from({ length: 100_000 }, (_, i) => [`cell ${i}`, String(i)]);
  const start = Date.now();
  const text = drawTable({ headers: ['cell', 'n'], align: ['left', 'right'], rows });
  assert.equal(text.split('\n').length, 100_000 + 4);
  assert.ok(Date.now() - start < 10_000, `100K rows took ${Date.now() - start} ms`);
});

test('regress on 100K distinct cells: linear, bounded output, exit 1 for its regressions', () => {
  const dir = tmpDir();
  const N = 100_000;
  for (const [name, factor] of [['base', 1], ['new', 0.9]] as const) {
    const parts = [csvHeaderLine()];
    for (let i = 0; i < N; i++) parts.push(recordToCsvLine(makeRecord({ ioDepth: i + 1, iops: i % 1000 === 0 ? 500_000 * factor : 500_000 })));
    writeFileSync(join(dir, `${name}.csv`), parts.join(''));
  }
  const start = Date.now();
  const r = runCli(['regress', join(dir, 'base.csv'), join(dir, 'new.csv'), '--metric', 'iops'], { timeoutMs: 120_000 });
  const ms = Date.now() - start;
  assert.equal(r.code, 1, r.stderr);
  assert.ok(ms < 60_000, `took ${ms} ms`);
  const lines = r.stdout.trimEnd().split('\n');
  assert.ok(lines.length < 60, `${lines.length} lines`);
  assert.equal(r.stdout.match(/REGRESSION/g)?.length, 50, 'the 50 rows shown are regressions first');
  assert.match(r.stdout, /99950 more rows not shown \(50 regression, 99900 unchanged\); --all shows every row/);
  assert.match(r.stdout, /^100 regressions, 0 improvements, 99900 unchanged/m);
});
