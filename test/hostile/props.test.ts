// Property-based tests (fast-check): option parsing, the CSV reader and the JSON
// results reader never crash on garbage, never give NaN, and round-trip what
// they wrote. The only thing they may throw is a BenchError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BenchError } from '../../src/errors.js';
import { parseCount, parseCpuList, parseDuration, parseList, parseSize } from '../../src/plan/units.js';
import { csvLine, parseCsv, toCsv } from '../../src/export/csv.js';
import { parseCsvRecords } from '../../src/export/csv-read.js';
import { parseJsonRecords, toJson } from '../../src/export/json.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkMetrics, checkSchema, readResultsFile } from '../../src/export/read.js';
import { compareResults } from '../../src/commands/regress.js';
import { METRICS } from '../../src/analysis/stats.js';
import { makeRecord, tmpDir } from '../fixtures.js';

/** Runs fn; a BenchError is an answer, anything else is a crash. */
function answer<T>(fn: () => T): T | BenchError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BenchError) return err;
    throw err;
  }
}

const junk = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', ' ', '-1', '1e9', 'NaN', 'Infinity', '0x10', '1..2', '٣', '9'.repeat(400), '4k4', '1 g', 'k'));

test('sizes: valid ones round-trip in any case and spacing; garbage is a BenchError, never NaN', () => {
  const unit = fc.constantFrom(['', 1], ['k', 1024], ['m', 1024 ** 2], ['g', 1024 ** 3], ['kib', 1024], ['MiB', 1024 ** 2], ['GB', 1024 ** 3]);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 4096 }), unit, fc.constantFrom('', ' ', '  '), fc.boolean(), (n, [suffix, scale], pad, upper) => {
      const s = `${pad}${n}${pad}${upper ? String(suffix).toUpperCase() : String(suffix).toLowerCase()}${pad}`;
      assert.equal(parseSize(s, '--size'), n * (scale as number));
    }),
  );
  fc.assert(
    fc.property(junk, (s) => {
      const v = answer(() => parseSize(s, '--size'));
      if (!(v instanceof BenchError)) assert.ok(Number.isSafeInteger(v) && v >= 0, `${JSON.stringify(s)} → ${v}`);
      else assert.equal(v.kind, 'usage');
    }),
  );
});

test('durations: 500ms/10s/2m round-trip; garbage is a BenchError, never NaN or Infinity', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(['ms', 1], ['s', 1000], ['', 1000], ['m', 60_000], ['MS', 1], ['S', 1000]), (n, [suffix, scale]) => {
      assert.equal(parseDuration(`${n}${suffix}`, '--runtime'), n * (scale as number));
    }),
  );
  fc.assert(
    fc.property(junk, (s) => {
      const v = answer(() => parseDuration(s, '--runtime'));
      if (!(v instanceof BenchError)) assert.ok(Number.isSafeInteger(v) && v >= 0, `${JSON.stringify(s)} → ${v}`);
    }),
  );
});

test('lists and CPU ranges: 8,64,256 and 0-3 round-trip; garbage is a BenchError and never runs away', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 8 }), (qds) => {
      assert.deepEqual(parseList(qds.join(' , '), (s) => parseCount(s, '--qd', 1, 4096)), qds);
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 64 }), (lo, len) => {
      assert.deepEqual(parseCpuList(`${lo}-${lo + len}`), Array.from({ length: len + 1 }, (_, i) => lo + i));
    }),
  );
  fc.assert(
    fc.property(fc.oneof(junk, fc.constantFrom('0-99999999999', '0-9007199254740993', '3-1', '1,,2', '-', '0-')), (s) => {
      const v = answer(() => parseCpuList(s));
      if (!(v instanceof BenchError)) assert.ok(v.length <= 8192 && v.every((c) => Number.isSafeInteger(c) && c >= 0), `${JSON.stringify(s)}`);
      const c = answer(() => parseCount(s, '--qd', 1, 4096));
      if (!(c instanceof BenchError)) assert.ok(Number.isSafeInteger(c) && c >= 1 && c <= 4096);
    }),
  );
});

test('CSV: csvLine → parseCsv round-trips any fields; arbitrary text throws nothing but a BenchError', () => {
  const field = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('"', '""', ',', '\r\n', '\n', '\r', ' a ', '\uFEFF', 'a"b'));
  fc.assert(
    fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }), (rows) => {
      // A row of one empty field is a blank line, which the reader skips.
      const kept = rows.filter((r) => !(r.length === 1 && r[0] === ''));
      const text = rows.map((r) => csvLine(r)).join('');
      // A leading BOM in the first field is read as the file's BOM.
      fc.pre(!text.startsWith('\uFEFF'));
      assert.deepEqual(parseCsv(text).map((r) => r.fields), kept);
    }),
  );
  const csvish = fc.array(fc.oneof(fc.string(), fc.constantFrom('"', ',', '\r\n', '\n', '\r', '\uFEFF', 'x')), { maxLength: 40 }).map((a) => a.join(''));
  fc.assert(
    fc.property(csvish, (text) => {
      answer(() => parseCsv(text));
      answer(() => parseCsvRecords(text, 'fuzz.csv'));
    }),
  );
  // A real file with one field damaged: a BenchError or a record, never a crash.
  const good = toCsv([makeRecord(), makeRecord({ engine: 'pt' })]);
  fc.assert(
    fc.property(fc.nat(good.length - 1), fc.string({ maxLength: 4 }), (at, insert) => {
      answer(() => parseCsvRecords(good.slice(0, at) + insert + good.slice(at + 1), 'damaged.csv'));
    }),
  );
});

test('JSON results reader: any JSON value is records or a BenchError, never a crash', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      answer(() => parseJsonRecords(JSON.stringify(v) ?? 'null', 'fuzz.json'));
      answer(() => parseJsonRecords(JSON.stringify({ schemaVersion: 1, records: [v] }), 'fuzz.json'));
      answer(() => parseJsonRecords(JSON.stringify({ schemaVersion: 1, records: v }), 'fuzz.json'));
    }),
  );
  const doc = JSON.parse(toJson([makeRecord()]));
  fc.assert(
    fc.property(fc.constantFrom('engine', 'latency', 'options', 'target', 'env', 'histogram', 'iops'), fc.jsonValue(), (key, v) => {
      answer(() => parseJsonRecords(JSON.stringify({ ...doc, records: [{ ...doc.records[0], [key]: v }] }), 'fuzz.json'));
    }),
  );
});

async function answerAsync<T>(fn: () => Promise<T>): Promise<T | BenchError> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof BenchError) return err;
    throw err;
  }
}

test('what the reader lets through, regress can compare: checked records never crash compareResults', async () => {
  const file = join(tmpDir(), 'fuzz.json');
  const doc = JSON.parse(toJson([makeRecord()]));
  const paths = ['engine', 'workload', 'blockSize', 'ioDepth', 'status', 'iops', 'options', 'options.cpus', 'options.fixedBufs', 'target', 'target.kind', 'latency', 'latency.p99Us', 'histogram', 'env'];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...paths), fc.jsonValue(), async (path, v) => {
      const rec = structuredClone(doc.records[0]);
      const keys = path.split('.');
      let o = rec;
      for (const k of keys.slice(0, -1)) o = o[k];
      o[keys[keys.length - 1]] = v;
      writeFileSync(file, JSON.stringify({ ...doc, records: [rec] }));
      const got = await answerAsync(async () => {
        const results = await readResultsFile(file);
        checkMetrics(results, METRICS);
        checkSchema(results);
        return compareResults(results.records, results.records, { metrics: METRICS.map((m) => m.name) });
      });
      if (!(got instanceof BenchError)) assert.ok(got.rows.every((r) => r.verdict === 'unchanged' || r.verdict === 'both failed'), JSON.stringify(got.rows));
    }),
    { numRuns: 300 },
  );
});
