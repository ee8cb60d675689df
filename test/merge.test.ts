// nvmebench merge on results written by real runs: three "hosts" (real runs
// on a file, named by NVMEBENCH_HOSTNAME), one made slow by editing its
// copies, a run's CSV beside its JSON (duplicates), and the bad input.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { csvRows, ROOT, runCli } from './cli.js';

let dir = '';
let fleet = '';

/** Scale the IOPS of every record of a host's CSV and JSON copies. */
function slowDown(hostDir: string, factor: number): void {
  const json = path.join(hostDir, 'r.json');
  const doc = JSON.parse(fs.readFileSync(json, 'utf8'));
  for (const r of doc.records) r.iops *= factor;
  fs.writeFileSync(json, JSON.stringify(doc));
  const csv = path.join(hostDir, 'r.csv');
  const [header, ...rows] = fs.readFileSync(csv, 'utf8').trim().split('\n');
  const at = header.split(',').indexOf('iops');
  const scaled = rows.map((line) => line.split(',').map((v, i) => (i === at ? String(Number(v) * factor) : v)).join(','));
  fs.writeFileSync(csv, [header, ...scaled].join('\n') + '\n');
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-merge-'));
  const file = path.join(dir, 'target.dat');
  fs.writeFileSync(file, Buffer.alloc(4 * 1024 * 1024, 0x33));
  fleet = path.join(dir, 'results', 'fleet-1');
  // Each host runs once and its CSV and JSON go into results/<run-id>/<host>/, as the playbook fetches them.
  for (const host of ['alpha', 'bravo', 'charlie']) {
    const hostDir = path.join(fleet, host);
    fs.mkdirSync(hostDir, { recursive: true });
    const run = runCli(['randread', '--engine', 'psync,uring', '--qd', '1', '--ios', '3000', '--repeat', '2', '--buffered', '--quiet', '--csv', path.join(hostDir, 'r.csv'), '--json', path.join(hostDir, 'r.json'), file], { env: { NVMEBENCH_HOSTNAME: host } });
    assert.equal(run.code, 0, run.stderr);
  }
  slowDown(path.join(fleet, 'charlie'), 0.01);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('three hosts merge into one file; a run\'s CSV beside its JSON counts once; the slow host is named; --fail-on-outliers exits 1', () => {
  const out = path.join(dir, 'fleet.csv');
  const json = path.join(dir, 'fleet.json');
  const merged = runCli(['merge', fleet, '-o', out, '--json', json]);
  assert.equal(merged.code, 0, merged.stderr);
  assert.match(merged.stdout, /fleet: 12 records from 3 hosts in 6 files \(schema v3\), 12 exact duplicates dropped/);
  assert.match(merged.stdout, /randread psync 4k QD 1 1 thread/);
  assert.match(merged.stdout, /outlier: charlie: .* 9\d\.\d% below the median/);
  assert.doesNotMatch(merged.stdout, /outlier: (alpha|bravo)/);
  const rows = csvRows(fs.readFileSync(out, 'utf8'));
  assert.equal(rows.length, 12);
  assert.deepEqual([...new Set(rows.map((r) => r.hostname))].sort(), ['alpha', 'bravo', 'charlie']);
  assert.equal(JSON.parse(fs.readFileSync(json, 'utf8')).records.length, 12);
  // The fleet files are results files too: merged again beside the hosts' files, every record is a duplicate.
  const again = runCli(['merge', dir]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /fleet: 12 records from 3 hosts in 8 files \(schema v3\), 36 exact duplicates dropped/);
  const gate = runCli(['merge', fleet, '--fail-on-outliers']);
  assert.equal(gate.code, 1);
  // charlie is over 90% below the median: an outlier at 15%, not at 99.9%.
  assert.equal(runCli(['merge', fleet, '--fail-on-outliers', '--outlier', '99.9%']).code, 0);
});

test('merge bad input: one line with the fix, exit 2', () => {
  const empty = path.join(dir, 'empty');
  fs.mkdirSync(empty);
  const cut = path.join(dir, 'cut', 'host');
  fs.mkdirSync(cut, { recursive: true });
  // Cut inside the first row, past the header (which grows with the schema's columns).
  const whole = fs.readFileSync(path.join(fleet, 'alpha', 'r.csv'), 'utf8');
  fs.writeFileSync(path.join(cut, 'r.csv'), whole.slice(0, whole.indexOf('\n') + 200));
  const mixed = path.join(dir, 'mixed');
  fs.mkdirSync(path.join(mixed, 'a'), { recursive: true });
  fs.mkdirSync(path.join(mixed, 'b'), { recursive: true });
  fs.copyFileSync(path.join(fleet, 'alpha', 'r.csv'), path.join(mixed, 'a', 'r.csv'));
  // A real v1 file: v1's columns only (its published header), schema_version 1. The fields hold no commas.
  const v1Header = (JSON.parse(fs.readFileSync(path.join(ROOT, 'results', 'schema', 'v1', 'results-csv-row.schema.json'), 'utf8')) as { $defs: { header: { prefixItems: Array<{ const: string }> } } }).$defs.header.prefixItems.map((p) => p.const);
  const [head, ...rows] = fs.readFileSync(path.join(fleet, 'bravo', 'r.csv'), 'utf8').trimEnd().split('\n');
  const cols = head.split(',');
  const keep = v1Header.map((c) => cols.indexOf(c));
  const v1 = [v1Header.join(','), ...rows.map((r) => keep.map((i) => r.split(',')[i]).join(',').replace(/^\d+,/, '1,'))].join('\n') + '\n';
  fs.writeFileSync(path.join(mixed, 'b', 'r.csv'), v1);
  const other = path.join(dir, 'other');
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'x.json'), '{"schemaVersion": 9, "records": []}');
  const cases: Array<[string[], RegExp]> = [
    [['merge', empty], /empty holds no results \(no \.csv or \.json file under it\): give the directory/],
    [['merge', path.join(dir, 'nowhere')], /nowhere does not exist/],
    [['merge', path.join(dir, 'cut')], /r\.csv line \d+ has \d+ fields, the header has \d+: the file was edited or cut short/],
    [['merge', mixed], /b\/r\.csv is schema v1 but .*a\/r\.csv is v3: merge files of one schema version/],
    [['merge', other], /x\.json uses schema v9/],
    [['merge', fleet, '-o', fleet], /-o .*fleet-1 is a directory/],
    [['merge', fleet, '-o', path.join(fleet, 'alpha', 'r.csv')], /alpha\/r\.csv is one of the inputs of this merge: give another file name/],
    [['merge', fleet, '--outlier', '150%'], /--outlier 150% is not a percentage between 0 and 100: give it as --outlier 15%/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.ok(fs.readFileSync(path.join(fleet, 'alpha', 'r.csv'), 'utf8').length > 900, 'the input was not written over');
});
