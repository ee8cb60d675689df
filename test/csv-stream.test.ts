// CSV on csv-parse and csv-stringify: the bytes nvmebench always wrote, the
// RFC 4180 corners on the streaming reader, and a 1M-row file read in a child
// process under 200 MB RSS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError } from '../src/errors.js';
import { csvField, csvHeaderLine, csvLine, CSV_COLUMNS, toCsv } from '../src/export/csv.js';
import { parseCsv, streamCsvFile } from '../src/export/csv-parse.js';
import { parseCsvRecords } from '../src/export/csv-read.js';
import { readResultsFile } from '../src/export/read.js';
import { ROOT } from './cli.js';
import { makeRecord, tmpDir } from './fixtures.js';

/** Cells whose bytes test/golden/csv-fields.csv holds, as the hand-written writer wrote them. */
const GOLDEN_CELLS: Array<string | number | boolean> = ['', ' a', 'b ', '\tx', 'x\u00a0', '\uFEFFy', 'a,b', 'q"q', 'l\nl', 'c\rr', 'crlf\r\n', '"', 'plain', 'é ü', 0, -0, 1.5, 1e21, 1e-7, NaN, Infinity, -Infinity, true, false, undefined as unknown as string, null as unknown as string, 123456789012345678];

test('CSV writer: byte for byte what the hand-written writer wrote (golden file)', () => {
  const golden = readFileSync(join(ROOT, 'test', 'golden', 'csv-fields.csv'));
  const now = Buffer.from(GOLDEN_CELLS.map((v) => csvLine([v, v])).join(''), 'utf8');
  assert.equal(now.toString('hex'), golden.toString('hex'));
  // A whole file: the header, then each column's field in order, "\n" ends each row.
  const records = [makeRecord(), makeRecord({ engine: 'pt', errorMessage: 'x, "y"\nz', iops: NaN })];
  const byHand = csvHeaderLine() + records.map((r) => CSV_COLUMNS.map((c) => csvField(c.get(r))).join(',') + '\n').join('');
  assert.equal(toCsv(records), byHand);
  // The error message is quoted in place, whatever columns follow it.
  assert.match(toCsv(records), /,"x, ""y""\nz"(,[^,\n]*)*\n$/);
});

async function streamed(text: string): Promise<Array<{ line: number; fields: string[] }>> {
  const file = join(tmpDir(), 'in.csv');
  writeFileSync(file, text);
  const rows: Array<{ line: number; fields: string[] }> = [];
  await streamCsvFile(file, (fields, line) => rows.push({ line, fields }));
  return rows;
}

test('CSV reader: quoting, embedded newlines, BOM, CRLF and blank lines, from memory and streamed from a file', async () => {
  const text = '\uFEFFa,b,c\r\n1,"x,y","he said ""no"""\r\n\r\n2,"multi\nline",\n"",3," pad "\n';
  const want = [
    { line: 1, fields: ['a', 'b', 'c'] },
    { line: 2, fields: ['1', 'x,y', 'he said "no"'] },
    { line: 4, fields: ['2', 'multi\nline', ''] },
    { line: 6, fields: ['', '3', ' pad '] },
  ];
  assert.deepEqual(parseCsv(text), want);
  assert.deepEqual(await streamed(text), want);
  // A quoted field across the 64 KiB read boundary.
  const long = 'x'.repeat(70_000);
  assert.deepEqual((await streamed(`a,b\n1,"${long}\n${long}"\n2,3\n`)).map((r) => [r.line, r.fields[1]!.length]), [[1, 1], [2, 140_001], [4, 1]]);
  for (const [bad, re] of [
    ['a,"open\n', /line 1: a quoted field is never closed/],
    ['a\nb,c"d\n', /line 2: a quote inside an unquoted field/],
    ['a\n"b"c\n', /line 2: text after a closing quote/],
  ] as const) {
    assert.throws(() => parseCsv(bad, 'f.csv'), (e: unknown) => e instanceof BenchError && re.test(e.message) && e.message.startsWith('f.csv line'));
    await assert.rejects(streamed(bad), (e: unknown) => e instanceof BenchError && re.test(e.message));
  }
});

test('CSV reader: a CRLF file with a BOM and a quoted multi-line message reads back to the same records', async () => {
  const records = [makeRecord(), makeRecord({ engine: 'pt', errorMessage: 'first, "second"\nthird' })];
  const file = join(tmpDir(), 'crlf.csv');
  writeFileSync(file, '\uFEFF' + toCsv(records).replace(/\n/g, '\r\n'));
  const read = await readResultsFile(file);
  assert.deepEqual(read.records.map((r) => r.engine), ['uring', 'pt']);
  assert.equal(read.records[1]!.errorMessage, 'first, "second"\r\nthird', 'a newline inside quotes is data, kept as written');
  assert.deepEqual([read.where(0), read.where(1)], ['line 2', 'line 3']);
  assert.equal(read.schemaViolation, undefined);
  assert.deepEqual(parseCsvRecords(toCsv(records)).map((r) => r.errorMessage), records.map((r) => r.errorMessage));
});

// regress and plot keep every record (about 0.85 KB each: 1M rows take about 850 MB);
// the reading itself, handed record by record to a consumer, stays flat.
test('a 1M-row CSV is read, every row checked and validated, in a child process under 200 MB RSS', { timeout: 600_000 }, () => {
  const dir = tmpDir();
  const file = join(dir, 'big.csv');
  const child = (args: string[]): string => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'test', 'big-csv.js'), ...args], { encoding: 'utf8', timeout: 540_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  try {
    child(['write', file, '1000000']);
    const got = JSON.parse(child(['stream', file])) as { rows: number; ms: number; maxRssMb: number };
    process.stderr.write(`# 1M-row CSV: ${JSON.stringify(got)}\n`);
    assert.equal(got.rows, 1_000_000);
    assert.ok(got.maxRssMb < 200, `peak RSS ${got.maxRssMb} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
