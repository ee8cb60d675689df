import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError } from '../src/errors.js';
import { SCHEMA_VERSION } from '../src/model.js';
import { appendCsv, checkCsvAppendable, csvField, csvHeaderLine, CSV_COLUMN_NAMES, parseCsv, toCsv } from '../src/export/csv.js';
import { parseCsvRecords, parseCsvTable } from '../src/export/csv-read.js';
import { jsonExporter, parseJsonRecords, readJsonFile, toJson } from '../src/export/json.js';
import { markdownTable, renderMarkdown } from '../src/export/markdown.js';
import { createExportSession } from '../src/export/session.js';
import { defaultResultPath, fileTimestamp } from '../src/export/paths.js';
import { readResultsFile } from '../src/export/read.js';
import { makeRecord, makeRepeats, seed001Records, tmpDir } from './fixtures.js';
import { buildResults } from '../src/analysis/results.js';

function usageErr(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BenchError, `expected a BenchError, got ${String(err)}`);
    assert.equal(err.kind, 'usage');
    assert.match(err.toLine(), re);
    return true;
  });
}

test('CSV fields are quoted only when needed', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(' padded'), '" padded"');
  assert.equal(csvField(1.5), '1.5');
  assert.equal(csvField(NaN), '');
  assert.equal(csvField(true), 'true');
});

test('CSV parser handles quotes, embedded newlines, CRLF and blank lines', () => {
  const rows = parseCsv('a,b,c\r\n1,"x,y","he said ""no"""\n\n2,"multi\nline",\n');
  assert.deepEqual(rows.map((r) => r.fields), [
    ['a', 'b', 'c'],
    ['1', 'x,y', 'he said "no"'],
    ['2', 'multi\nline', ''],
  ]);
  assert.equal(rows[2].line, 4, 'row line numbers count physical lines');
  usageErr(() => parseCsv('a,"open\n'), /never closed/);
  usageErr(() => parseCsv('a,b"c\n'), /quote inside an unquoted field/);
  usageErr(() => parseCsvTable('a,b\n1,2,3\n', 'f.csv'), /f\.csv line 2 has 3 fields, the header has 2/);
});

test('CSV header is the documented, versioned column set', () => {
  assert.equal(CSV_COLUMN_NAMES[0], 'schema_version');
  assert.equal(new Set(CSV_COLUMN_NAMES).size, CSV_COLUMN_NAMES.length, 'no duplicate columns');
  for (const c of ['run_id', 'repeat', 'engine', 'bs', 'qd', 'iops', 'lat_p99_us', 'cpu_ns_per_io', 'ios_per_submit_call', 'error_message']) {
    assert.ok(CSV_COLUMN_NAMES.includes(c), `column ${c}`);
  }
  const readme = readFileSync(new URL('../../results/README.md', import.meta.url), 'utf8');
  for (const c of CSV_COLUMN_NAMES) assert.match(readme, new RegExp('`' + c + '`'), `results/README.md documents ${c}`);
});

test('CSV round trip keeps every field, including awkward strings', () => {
  const recs = [
    makeRecord({ engine: 'pt-poll', ioDepth: 64, iops: 1_378_000.5, options: { cpus: [0, 2, 4], fixedBufs: true } }),
    makeRecord({
      repeat: 1,
      status: 'failed',
      errorMessage: 'EIO on "nvme0n1", lba 12,345\nsecond line',
      target: { model: 'QEMU NVMe Ctrl', emulated: true, serial: ' deadbeef ' },
      latency: { p999Us: NaN },
    }),
  ];
  const text = toCsv(recs);
  assert.equal(text.split('\n')[0] + '\n', csvHeaderLine());
  const back = parseCsvRecords(text, 'mem.csv');
  assert.equal(back.length, 2);
  const strip = (r: (typeof recs)[number]) => ({ ...r, histogram: [] });
  assert.deepEqual(back[0], strip(recs[0]));
  assert.deepEqual(back[1], strip(recs[1]));
  assert.ok(Number.isNaN(back[1].latency.p999Us), 'NaN written as empty comes back as NaN');
});

test('CSV reader rejects other schema versions and foreign files', () => {
  const text = toCsv([makeRecord()]).replace(/\n3,/, '\n9,');
  usageErr(() => parseCsvRecords(text, 'new.csv'), /new\.csv uses CSV schema v9, this nvmebench reads v1, v2 and v3/);
  usageErr(() => parseCsvRecords('name,value\nx,1\n', 'other.csv'), /other\.csv is not an nvmebench v3 CSV: it lacks columns schema_version/);
  usageErr(() => parseCsvRecords(toCsv([makeRecord()]).replace('randread', '"x"').replace(/,4096,/, ',big,'), 'bad.csv'), /bad\.csv line 2: column bs holds "big"/);
});

test('appendCsv creates, appends under an identical header, refuses another header', () => {
  const dir = tmpDir();
  const file = join(dir, 'sub', 'r.csv');
  appendCsv([makeRecord({ engine: 'uring' })], file);
  appendCsv([makeRecord({ engine: 'pt' })], file);
  const text = readFileSync(file, 'utf8');
  assert.equal(text.split(csvHeaderLine()).length - 1, 1, 'header written once');
  assert.deepEqual(parseCsvRecords(text).map((r) => r.engine), ['uring', 'pt']);

  const other = join(dir, 'other.csv');
  writeFileSync(other, csvHeaderLine().replace(',cpu_ns_per_io', '') + '1,2\n');
  usageErr(() => appendCsv([makeRecord()], other), /other\.csv has a different CSV header \(it lacks cpu_ns_per_io.*write to a new file instead, e\.g\. --csv .*other-v3\.csv/);

  const reordered = join(dir, 'reordered.csv');
  const cols = [...CSV_COLUMN_NAMES];
  [cols[1], cols[2]] = [cols[2], cols[1]];
  writeFileSync(reordered, cols.join(',') + '\n');
  usageErr(() => checkCsvAppendable(reordered), /another order \(column 2 is repeat, expected run_id\)/);

  const v9 = join(dir, 'v9.csv');
  writeFileSync(v9, toCsv([makeRecord()]).replace(/\n3,/, '\n9,'));
  usageErr(() => checkCsvAppendable(v9), /holds rows of CSV schema v9/);

  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  appendCsv([makeRecord()], empty);
  assert.ok(readFileSync(empty, 'utf8').startsWith('schema_version,'));

  const cut = join(dir, 'cut.csv');
  writeFileSync(cut, toCsv([makeRecord()]).replace(/\n$/, ''));
  appendCsv([makeRecord({ repeat: 1 })], cut);
  assert.equal(parseCsvRecords(readFileSync(cut, 'utf8')).length, 2, 'a file cut without a final newline still appends cleanly');
});

test('JSON holds the schema version and full histograms, and reads back', () => {
  const recs = makeRepeats([500e3, 510e3]);
  const doc = JSON.parse(toJson(recs));
  assert.equal(doc.schemaVersion, SCHEMA_VERSION);
  assert.equal(doc.records.length, 2);
  assert.deepEqual(doc.records[0].histogram, recs[0].histogram);
  const dir = tmpDir();
  const file = join(dir, 'r.json');
  jsonExporter.write(buildResults(recs), file);
  jsonExporter.write(buildResults(recs.slice(0, 1)), file);
  assert.equal(readJsonFile(file).length, 1, 'JSON overwrites');
  const withNaN = parseJsonRecords(toJson([makeRecord({ cpuNsPerIo: NaN })]));
  assert.ok(Number.isNaN(withNaN[0].cpuNsPerIo), 'null from NaN comes back as NaN');
  usageErr(() => parseJsonRecords('{"schemaVersion":9,"records":[]}', 'x.json'), /x\.json uses schema v9/);
  usageErr(() => parseJsonRecords('[1,2]', 'y.json'), /not an nvmebench results file/);
  usageErr(() => parseJsonRecords('{oops', 'z.json'), /z\.json is not valid JSON/);
});

test('readResultsFile tells CSV from JSON and reports a missing file', async () => {
  const dir = tmpDir();
  const c = join(dir, 'a.csv');
  const j = join(dir, 'a.json');
  const noext = join(dir, 'a.results');
  writeFileSync(c, toCsv([makeRecord()]));
  writeFileSync(j, toJson([makeRecord(), makeRecord({ repeat: 1 })]));
  writeFileSync(noext, toJson([makeRecord()]));
  assert.equal((await readResultsFile(c)).format, 'csv');
  assert.equal((await readResultsFile(j)).records.length, 2);
  assert.equal((await readResultsFile(noext)).format, 'json');
  await assert.rejects(readResultsFile(join(dir, 'nope.csv')), /nope\.csv does not exist/);
});

test('Markdown table: escaped pipes, right-aligned numbers, same columns as the terminal', () => {
  assert.equal(markdownTable(['a', 'b'], [['x|y', '1']], ['left', 'right']), '| a | b |\n|---|---:|\n| x\\|y | 1 |\n');
  const md = renderMarkdown(buildResults(seed001Records()));
  const lines = md.split('\n');
  const header = lines.find((l) => l.startsWith('| engine'))!;
  assert.ok(header, 'results table header');
  for (const h of ['IOPS', 'BW MiB/s', 'p99 µs', 'p99.9 µs', 'CPU ns/IO', 'IOs/call']) assert.ok(header.includes(h), h);
  assert.match(md, /\| pt-poll \| 4k \| 8 \| 1 \| 902K \|/);
  assert.match(md, /\| QD \| uring \| pt \| uring-poll \| pt-poll \|/);
  assert.match(md, /\| 8 \| 538 \| 589 \(1\.09×\) \| 831 \(1\.54×\) \| 902 \(1\.68×\) \|/);
  const emu = renderMarkdown(buildResults([makeRecord({ target: { emulated: true, model: 'QEMU NVMe Ctrl' } })]));
  assert.match(emu, /> \*\*Note:\*\* figures from an emulated device \(QEMU NVMe Ctrl\): they show function, not hardware speed/);
});

test('export session appends CSV per record and rewrites JSON/MD each time', () => {
  const dir = tmpDir();
  const csv = join(dir, 'out', 's.csv');
  const json = join(dir, 'out', 's.json');
  const md = join(dir, 'out', 's.md');
  const s = createExportSession({ csv, json, md });
  assert.equal(existsSync(csv), false, 'nothing written before the first record');
  s.add(makeRecord({ engine: 'uring' }));
  assert.equal(parseCsvRecords(readFileSync(csv, 'utf8')).length, 1);
  assert.equal(readJsonFile(json).length, 1);
  s.add(makeRecord({ engine: 'pt' }));
  assert.deepEqual(parseCsvRecords(readFileSync(csv, 'utf8')).map((r) => r.engine), ['uring', 'pt']);
  assert.deepEqual(readJsonFile(json).map((r) => r.engine), ['uring', 'pt']);
  assert.match(readFileSync(md, 'utf8'), /\| pt \|/);
  s.close();
  s.close();

  // A second session appends to the same CSV.
  const s2 = createExportSession({ csv });
  s2.add(makeRecord({ engine: 'aio' }));
  s2.close();
  assert.deepEqual(parseCsvRecords(readFileSync(csv, 'utf8')).map((r) => r.engine), ['uring', 'pt', 'aio']);

  // A CSV with another header fails at creation, before anything runs.
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'x,y\n1,2\n');
  usageErr(() => createExportSession({ csv: bad }), /bad\.csv has a different CSV header/);
});

test('default result paths: results/<timestamp>-<name>.<ext>', () => {
  const d = new Date(2026, 10, 23, 14, 5, 9);
  assert.equal(fileTimestamp(d), '20261123-140509');
  assert.equal(defaultResultPath('csv', 'randread', d), join('results', '20261123-140509-randread.csv'));
  assert.equal(defaultResultPath('.json', 'rand read/qd 64', d, 'out'), join('out', '20261123-140509-rand-read-qd-64.json'));
  assert.equal(defaultResultPath('csv', '', d), join('results', '20261123-140509-run.csv'));
});
