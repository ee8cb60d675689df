// The published results schema (results/schema/): the checked-in files are what
// the code generates, every file nvmebench writes validates against them (ajv,
// independent of our reader), and regress and plot name the first violation of
// a file they read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ajv2020 as AjvType, ValidateFunction } from 'ajv/dist/2020.js';
import { SCHEMA_VERSION } from '../src/model.js';
import { csvLine, CSV_V1_COLUMNS, toCsv } from '../src/export/csv.js';
import { parseCsvTable } from '../src/export/csv-read.js';
import { toJson } from '../src/export/json.js';
import { SCHEMA_BASE_URI, schemaFiles } from '../src/export/schema.js';
import { ROOT, runCli } from './cli.js';
import { makeRecord, seed001Records, tmpDir } from './fixtures.js';

const require = createRequire(import.meta.url);
const { Ajv2020 } = require('ajv/dist/2020.js') as { Ajv2020: new (o: object) => AjvType };
const addFormats = require('ajv-formats') as (a: AjvType) => AjvType;

const SCHEMA_DIR = join(ROOT, 'results', 'schema');
const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));
const compiled = new Map<string, ValidateFunction>();
function schema(version: number, name: string): ValidateFunction {
  const key = `${version}/${name}`;
  if (!compiled.has(key)) compiled.set(key, ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, `v${version}`, name), 'utf8')) as object));
  return compiled.get(key)!;
}

/** A results CSV or JSON text against the checked-in schema of its version. */
export function assertConforms(text: string, format: 'csv' | 'json', what: string = format): void {
  if (format === 'json') {
    const doc = JSON.parse(text) as { schemaVersion: number };
    const validate = schema(doc.schemaVersion, 'results.schema.json');
    assert.ok(validate(doc), `${what}: ${ajv.errorsText(validate.errors)}`);
    return;
  }
  const table = parseCsvTable(text);
  const version = Number(table.rows[0]?.values.schema_version ?? SCHEMA_VERSION);
  const row = schema(version, 'results-csv-row.schema.json');
  const header = ajv.getSchema(`${SCHEMA_BASE_URI}/v${version}/results-csv-row.schema.json#/$defs/header`)!;
  assert.ok(header(table.header), `${what} header: ${ajv.errorsText(header.errors)}`);
  for (const { line, values } of table.rows) assert.ok(row(values), `${what} line ${line}: ${ajv.errorsText(row.errors)}`);
}

test('the checked-in schema files are what the code generates (fix: node scripts/gen-schema.mjs)', () => {
  for (const [name, text] of Object.entries(schemaFiles(SCHEMA_VERSION))) {
    assert.equal(readFileSync(join(SCHEMA_DIR, `v${SCHEMA_VERSION}`, name), 'utf8'), text, `results/schema/v${SCHEMA_VERSION}/${name} is stale: run node scripts/gen-schema.mjs`);
  }
  const check = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-schema.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  // Every published version compiles under draft 2020-12, strict.
  for (const v of [1, 2]) for (const name of ['results.schema.json', 'results-csv-row.schema.json']) assert.equal(typeof schema(v, name), 'function');
});

test('what the exporters write validates: CSV and JSON of ok, failed, command and v1 records', () => {
  const records = [
    ...seed001Records(),
    makeRecord({ status: 'failed', errorMessage: 'EIO, "twice"\non line 2', iops: NaN, cpuNsPerIo: NaN, histogram: [] }),
    makeRecord({ engine: 'pt', workload: 'raw:0x02' as never }),
  ];
  assertConforms(toCsv(records), 'csv');
  assertConforms(toJson(records), 'json');
  assertConforms(readFileSync(join(ROOT, 'results', 'example', 'demo.csv'), 'utf8'), 'csv', 'results/example/demo.csv');
  // Schema v1: the columns and fields v2 added are absent; a v1 JSON document may lack generator and warnings.
  const table = parseCsvTable(toCsv([makeRecord()]));
  const v1Columns = table.header.filter((h) => CSV_V1_COLUMNS.includes(h));
  const v1Csv = csvLine(v1Columns) + table.rows.map(({ values }) => csvLine(v1Columns.map((c) => (c === 'schema_version' ? '1' : values[c]!)))).join('');
  assertConforms(v1Csv, 'csv', 'a v1 CSV');
  const { sysCpuNsPerIo, irqsPerIo, ctxswPerIo, system, ...v1Record } = JSON.parse(toJson([makeRecord()])).records[0];
  assertConforms(JSON.stringify({ schemaVersion: 1, records: [{ ...v1Record, schemaVersion: 1 }] }), 'json', 'a v1 JSON document');
  assert.ok([sysCpuNsPerIo, irqsPerIo, ctxswPerIo].every((v) => v !== undefined) && system === undefined);
  // The schema can fail: a value nvmebench never writes is refused.
  assert.throws(() => assertConforms(toCsv(records).replace(',randread,', ',randwalk,'), 'csv'), /workload/);
  assert.throws(() => assertConforms(toJson([makeRecord({ ioDepth: -1 })]), 'json'), /ioDepth/);
});

test('a real run on a file: its --csv and --json validate, and regress and plot read them', { timeout: 120_000 }, () => {
  const dir = tmpDir();
  const file = join(dir, 'data.bin');
  writeFileSync(file, Buffer.alloc(8 << 20, 7));
  const csv = join(dir, 'r.csv');
  const json = join(dir, 'r.json');
  const res = runCli(['randread', file, '--engine', 'psync', '--runtime', '0.3', '--buffered', '--quiet', '--csv', csv, '--json', json], { timeoutMs: 60_000 });
  assert.equal(res.code, 0, res.stderr);
  assertConforms(readFileSync(csv, 'utf8'), 'csv', 'a run\'s --csv');
  assertConforms(readFileSync(json, 'utf8'), 'json', 'a run\'s --json');
  assert.equal(runCli(['regress', csv, json]).code, 0);
  assert.equal(runCli(['plot', json, '-o', join(dir, 'r.svg')]).code, 0);
});

test('regress and plot name the first schema violation: file, line or record, field, what was expected; exit 2', () => {
  const dir = tmpDir();
  const good = join(dir, 'good.csv');
  writeFileSync(good, toCsv([makeRecord(), makeRecord({ engine: 'pt' })]));
  const cases: Array<[string, string, RegExp]> = [
    ['engine.csv', toCsv([makeRecord(), makeRecord({ engine: 'pt' })]).replace(/,pt,/, ',ptx,'), /engine\.csv line 3, column engine: "ptx" is not one of psync, .*\(CSV schema v3\)/],
    ['bool.csv', toCsv([makeRecord()]).replace(/,false,/, ',no,'), /bool\.csv line 2: column \w+ holds "no", not true\/false/],
    ['when.csv', toCsv([makeRecord()]).replace('2026-11-23T14:00:00.000Z', 'yesterday'), /when\.csv line 2, column timestamp: "yesterday" is not an ISO 8601 date and time \(CSV schema v3\)/],
    ['pct.json', toJson([makeRecord({ readPercent: 150 })]), /pct\.json record 1, readPercent: 150: expected it to be <= 100 \(JSON schema v3\)/],
    ['kind.json', toJson([makeRecord({ engine: 'pt' }), makeRecord({ target: { ...makeRecord().target, kind: 'tape' as never } })]), /kind\.json record 2, target\.kind: "tape": expected one of file, block, nvme-char, pci, none/],
  ];
  for (const [name, text, re] of cases) {
    const bad = join(dir, name);
    writeFileSync(bad, text);
    for (const args of [['regress', good, bad], ['plot', bad, '-o', join(dir, 'x.svg')]]) {
      const r = runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  }
});

test('a benchmark run never loads ajv; regress loads it to read', { timeout: 120_000 }, () => {
  const dir = tmpDir();
  const hook = join(dir, 'hook.cjs');
  // Reports every module load whose name mentions ajv (validate.ts requires it on first use).
  writeFileSync(hook, "const M = require('module'); const load = M._load;\nM._load = function (r, ...a) { if (/ajv/.test(r)) process.stderr.write('AJV ' + r + '\\n'); return load.call(this, r, ...a); };\n");
  const file = join(dir, 'data.bin');
  writeFileSync(file, Buffer.alloc(4 << 20, 3));
  const csv = join(dir, 'r.csv');
  const env = { ...process.env, NODE_OPTIONS: `--require ${hook}` };
  const run = runCli(['randread', file, '--engine', 'psync', '--runtime', '0.2', '--buffered', '--quiet', '--csv', csv], { env, timeoutMs: 60_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /AJV/);
  const regress = runCli(['regress', csv, csv], { env });
  assert.equal(regress.code, 0, regress.stderr);
  assert.match(regress.stderr, /AJV ajv\/dist\/2020\.js/);
});
