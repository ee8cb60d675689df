// Whole-system CPU (issue 12 §3): the figures built from the native snapshots,
// the "another process used the workers' CPUs" and steal warnings on stubbed
// snapshots, schema v2 against v1 files (regress, plot, appending), and real
// runs on a file through the binary.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeRecord, makeRepeats } from './fixtures.js';
import { csvRows, runCli } from './cli.js';
import { buildResults } from '../src/analysis/results.js';
import { FOREIGN_CPU_SHARE, STEAL_SHARE, foreignCpu, stealShare } from '../src/analysis/interference.js';
import { appendCsv, CSV_V1_COLUMNS, toCsv } from '../src/export/csv.js';
import { parseCsvRecords } from '../src/export/csv-read.js';
import { parseJsonRecords } from '../src/export/json.js';
import type { NativeJob, RunRecord, SystemCpuRecord } from '../src/model.js';
import type { NativeRunResult } from '../src/native/addon.js';
import { buildResultsTable } from '../src/output/table.js';
import { irqNamesFor, systemFigures } from '../src/run/system-cpu.js';

const dirs: string[] = [];
const tmpDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'nvmebench-syscpu-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const SEC = 1e9;

/** A stubbed interval: two pinned CPUs, 1 s, our process at 1 CPU-second. */
function system(o: Partial<SystemCpuRecord> = {}): SystemCpuRecord {
  return {
    elapsedNs: SEC,
    workerCpuNs: 0.9 * SEC,
    helperCpuNs: 0,
    helperThreads: 0,
    irqNs: 0,
    softirqNs: 0,
    otherKernelNs: 0,
    stealNs: 0,
    foreignCpuNs: 0,
    processCpuNs: SEC,
    interrupts: null,
    irqSources: [],
    contextSwitches: { voluntary: 0, involuntary: 0 },
    cpus: [
      { cpu: 2, busyNs: 0.55 * SEC, stealNs: 0 },
      { cpu: 3, busyNs: 0.55 * SEC, stealNs: 0 },
    ],
    cpusPinned: true,
    ...o,
  };
}

test('foreign CPU: busy time beyond our own by more than 10% of each CPU considered warns, naming the CPU', () => {
  assert.equal(FOREIGN_CPU_SHARE, 0.1);
  // 1.1 s busy against 1.0 s ours over 2 CPUs: 5% each, within the threshold.
  assert.equal(foreignCpu(system()), undefined);
  // Exactly at 10% of 2 CPU-seconds: not beyond it.
  assert.equal(foreignCpu(system({ cpus: [{ cpu: 2, busyNs: 0.6 * SEC, stealNs: 0 }, { cpu: 3, busyNs: 0.6 * SEC, stealNs: 0 }] })), undefined);
  // CPU 3 busy throughout while our process used half of it: 45% of the two CPUs' time, on CPU 3.
  const f = foreignCpu(system({ cpus: [{ cpu: 2, busyNs: 0.5 * SEC, stealNs: 0 }, { cpu: 3, busyNs: 1.4 * SEC, stealNs: 0 }] }));
  assert.ok(f);
  assert.deepEqual(f.cpus, [3]);
  assert.ok(Math.abs(f.foreignShare - 0.45) < 1e-9, String(f.foreignShare));
  // One CPU, unpinned: the threshold is 10% of that one CPU.
  const one = (busy: number) => system({ cpusPinned: false, processCpuNs: 0.5 * SEC, cpus: [{ cpu: 0, busyNs: busy, stealNs: 0 }] });
  assert.equal(foreignCpu(one(0.6 * SEC)), undefined);
  assert.deepEqual(foreignCpu(one(0.61 * SEC))?.cpus, [0]);
  assert.equal(foreignCpu(system({ cpus: [] })), undefined, 'no CPUs seen: nothing to say');
});

test('steal over 5% of the CPUs considered warns', () => {
  assert.equal(STEAL_SHARE, 0.05);
  const steal = (ns: number) => system({ cpus: [{ cpu: 2, busyNs: 0.5 * SEC, stealNs: ns }, { cpu: 3, busyNs: 0.5 * SEC, stealNs: ns }] });
  assert.equal(stealShare(steal(0.05 * SEC)), undefined);
  assert.ok(Math.abs((stealShare(steal(0.08 * SEC)) ?? 0) - 0.08) < 1e-9);
});

test('the warnings reach the cell, the table notes and the JSON, once per cell', () => {
  const busy = system({ cpus: [{ cpu: 2, busyNs: 0.5 * SEC, stealNs: 0.2 * SEC }, { cpu: 3, busyNs: 1.4 * SEC, stealNs: 0 }] });
  const recs = makeRepeats([1_000e3, 1_001e3, 999e3]).map((r, i) => ({ ...r, system: i === 0 ? system() : busy }));
  const results = buildResults(recs);
  const warnings = results.cells[0].warnings;
  assert.deepEqual(warnings.map((w) => w.kind), ['foreign-cpu', 'steal']);
  assert.deepEqual(warnings[0], { kind: 'foreign-cpu', repeats: [1, 2], share: warnings[0].kind === 'foreign-cpu' ? warnings[0].share : 0, cpus: [3], pinned: true });
  const notes = buildResultsTable(results).notes.join('\n');
  assert.match(notes, /another process used the workers' CPUs during repeats 1, 2: CPU 3 was busy 45% of the time beyond nvmebench's own CPU; pick idle CPUs with --cpus, and check top/);
  assert.match(notes, /the VM's host took 10% of the CPUs' time \(steal\) during repeats 1, 2/);
  // Records without system figures (schema v1, CSV) warn of nothing.
  assert.deepEqual(buildResults(makeRepeats([1_000e3, 1_001e3, 999e3])).cells[0].warnings, []);
});

const JOB = { cpus: [1] } as unknown as NativeJob;

function nativeResult(o: Partial<NonNullable<NativeRunResult['system']>> = {}): NativeRunResult {
  return {
    workers: [{ ios: 1000, bytes: 0, readIos: 1000, writeIos: 0, submitCalls: 0, reapCalls: 0, submitted: 0, reaped: 0, errors: 0, userUs: 100, sysUs: 400, elapsedUs: 1e6, vcsw: 30, nvcsw: 10 }],
    system: {
      elapsedNs: SEC,
      statValid: true,
      totalNs: { user: 0.2 * SEC, nice: 0, system: 0.7 * SEC, idle: SEC, iowait: 0, irq: 0.01 * SEC, softirq: 0.02 * SEC, steal: 0 },
      cpuBusyNs: [[0, 0.4 * SEC], [1, 0.5 * SEC]],
      cpuStealNs: [[0, 0], [1, 0.01 * SEC]],
      helperCpuNs: 0.1 * SEC,
      helperVcsw: 5,
      helperNvcsw: 5,
      helperThreads: 1,
      helpersTruncated: false,
      irqs: 990,
      irqSources: ['nvme0q1'],
      processUserNs: 0.1 * SEC,
      processSysNs: 0.6 * SEC,
      ...o,
    },
  } as NativeRunResult;
}

test('sys_cpu_ns_per_io adds helpers, IRQ, softirq and other kernel time to the workers; irqs and context switches per I/O', () => {
  const f = systemFigures(nativeResult(), JOB, 1000);
  // workers 0.5 ms + helpers 100 ms + irq 10 ms + softirq 20 ms + (700 - 600) ms other kernel, over 1000 I/Os.
  assert.equal(f.sysCpuNsPerIo, (0.5e6 + 100e6 + 10e6 + 20e6 + 100e6) / 1000);
  assert.equal(f.irqsPerIo, 0.99);
  assert.equal(f.ctxswPerIo, 50 / 1000);
  assert.deepEqual(f.system?.cpus, [{ cpu: 1, busyNs: 0.5 * SEC, stealNs: 0.01 * SEC }], 'the pinned CPU only');
  assert.deepEqual(f.system?.contextSwitches, { voluntary: 35, involuntary: 15 });
  // Other kernel time never goes below zero; interrupts not counted are unknown, not 0.
  const g = systemFigures(nativeResult({ totalNs: { user: 0, nice: 0, system: 0.1 * SEC, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0 }, irqs: null }), JOB, 1000);
  assert.equal(g.system?.otherKernelNs, 0);
  assert.ok(Number.isNaN(g.irqsPerIo));
  assert.ok(Number.isNaN(systemFigures({ ...nativeResult(), system: undefined }, JOB, 1000).sysCpuNsPerIo));
});

test('interrupt names: the controller for block and passthrough nodes, none for files, nop and vfio', () => {
  assert.deepEqual(irqNamesFor('nvme0', 'block', 'block'), ['nvme0q']);
  assert.deepEqual(irqNamesFor('nvme1', 'nvme-char', 'nvme-char'), ['nvme1q']);
  assert.deepEqual(irqNamesFor('nvme0', 'block-or-file', 'file'), []);
  assert.deepEqual(irqNamesFor(undefined, 'block-or-file', 'block'), [], 'a loop device has no controller');
  assert.deepEqual(irqNamesFor('nvme0', 'vfio', 'pci'), []);
  assert.deepEqual(irqNamesFor(undefined, 'nothing', 'none'), []);
});

/** The CSV a v1 nvmebench wrote: no v2 columns, schema_version 1. */
function v1Csv(records: RunRecord[]): string {
  const [header, ...rows] = toCsv(records).trimEnd().split('\n');
  const cols = header.split(',');
  const drop = new Set(cols.flatMap((c, i) => (CSV_V1_COLUMNS.includes(c) ? [] : [i])));
  const keep = (line: string) => line.split(',').filter((_, i) => !drop.has(i)).join(',');
  return [keep(header), ...rows.map((r) => keep(r).replace(/^\d+,/, '1,'))].join('\n') + '\n';
}

test('schema v1 files still read: the v2 figures unknown (NaN), not 0; a v2 row is not appended to a v1 file', () => {
  const v1 = v1Csv([makeRecord({ engine: 'uring' })]);
  assert.ok(!v1.includes('sys_cpu_ns_per_io') && /\n1,/.test(v1));
  const [r] = parseCsvRecords(v1, 'old.csv');
  assert.equal(r.schemaVersion, 1);
  assert.equal(r.cpuNsPerIo, 1843);
  assert.ok(Number.isNaN(r.sysCpuNsPerIo) && Number.isNaN(r.irqsPerIo) && Number.isNaN(r.ctxswPerIo));
  // A v1 JSON document: the fields absent, read as unknown.
  const rec = makeRecord() as Partial<RunRecord>;
  delete rec.sysCpuNsPerIo;
  const [j] = parseJsonRecords(JSON.stringify({ schemaVersion: 1, records: [{ ...rec, schemaVersion: 1 }] }), 'old.json');
  assert.ok(Number.isNaN(j.sysCpuNsPerIo));
  // The v2 figures round-trip through a v2 CSV.
  const [back] = parseCsvRecords(toCsv([makeRecord()]));
  assert.deepEqual([back.sysCpuNsPerIo, back.irqsPerIo, back.ctxswPerIo], [2210, 0.98, 0.01]);

  const file = join(tmpDir(), 'old.csv');
  writeFileSync(file, v1);
  assert.throws(
    () => appendCsv([makeRecord()], file),
    (e: Error) => /old\.csv has a different CSV header \(it lacks target_index, aggregate, sys_cpu_ns_per_io, irqs_per_io, …; this nvmebench writes schema v3\)/.test(e.message),
  );
  assert.equal(readFileSync(file, 'utf8'), v1, 'the v1 file is left as it was');
});

test('regress and plot read a v1 CSV (through the binary), and regress compares it with a v2 one', () => {
  const dir = tmpDir();
  const recs = [...makeRepeats([1_000e3, 1_010e3, 990e3], { engine: 'uring' }), ...makeRepeats([800e3, 805e3, 795e3], { engine: 'psync' })];
  const old = join(dir, 'old.csv');
  const cur = join(dir, 'cur.csv');
  writeFileSync(old, v1Csv(recs));
  writeFileSync(cur, toCsv(recs));
  const same = runCli(['regress', old, old]);
  assert.equal(same.code, 0, same.stderr);
  const mixed = runCli(['regress', old, cur]);
  assert.equal(mixed.code, 0, mixed.stderr);
  // A v2 figure asked of a v1 file: unknown, said so, not compared as 0.
  const sys = runCli(['regress', old, cur, '--metric', 'sys_cpu_ns_per_io']);
  assert.equal(sys.code, 2);
  assert.match(sys.stderr, /old\.csv line 2, column sys_cpu_ns_per_io: empty in a row with status ok/);
  const svg = join(dir, 'old.svg');
  const plot = runCli(['plot', old, '-o', svg]);
  assert.equal(plot.code, 0, plot.stderr);
  assert.match(readFileSync(svg, 'utf8'), /<svg/);
});

test('a real run on a file: sys CPU per I/O at least the workers\', context switches counted; SQPOLL\'s thread is charged', () => {
  const dir = tmpDir();
  const file = join(dir, 'data.bin');
  writeFileSync(file, Buffer.alloc(16 * 1024 * 1024, 1));
  const json = join(dir, 'r.json');
  const csv = join(dir, 'r.csv');
  const res = runCli(['randread', file, '--engine', 'uring,psync', '--runtime', '0.5', '--buffered', '--json', json, '--csv', csv], { timeoutMs: 60_000 });
  assert.equal(res.code, 0, res.stderr);
  const recs = parseJsonRecords(readFileSync(json, 'utf8'));
  for (const r of recs) {
    assert.equal(r.status, 'ok');
    assert.ok(r.sysCpuNsPerIo >= r.cpuNsPerIo, `${r.engine}: sys ${r.sysCpuNsPerIo} < worker ${r.cpuNsPerIo}`);
    assert.ok(Number.isFinite(r.ctxswPerIo) && r.ctxswPerIo >= 0, `${r.engine}: ctxsw ${r.ctxswPerIo}`);
    assert.ok(r.system && r.system.elapsedNs > 0.3e9 && r.system.cpus.length > 0);
    assert.ok(r.system.workerCpuNs > 0);
    assert.equal(r.system.interrupts, null, 'a file: interrupts not counted');
    assert.ok(Number.isNaN(r.irqsPerIo));
  }
  const rows = csvRows(readFileSync(csv, 'utf8'));
  assert.equal(rows[0].schema_version, '3');
  assert.ok(Number(rows[0].sys_cpu_ns_per_io) >= Number(rows[0].cpu_ns_per_io));
  assert.equal(rows[0].irqs_per_io, '', 'not measured: empty, not 0');
  assert.match(res.stdout, /sys CPU\/IO/);
  assert.doesNotMatch(res.stdout, /irqs\/IO/, 'no cell counted interrupts');

  const sq = join(dir, 'sq.json');
  const sqRun = runCli(['randread', file, '--engine', 'uring', '--sqpoll', '--qd', '8', '--runtime', '0.5', '--buffered', '--json', sq], { timeoutMs: 60_000 });
  assert.equal(sqRun.code, 0, sqRun.stderr);
  const [s] = parseJsonRecords(readFileSync(sq, 'utf8'));
  assert.ok(s.system && s.system.helperThreads >= 1 && s.system.helperCpuNs > 0, JSON.stringify(s.system));
  assert.ok(s.sysCpuNsPerIo > s.cpuNsPerIo, 'the SQPOLL thread adds to the workers');
});

test('the table shows sys CPU/IO and irqs/IO where measured, and leaves the columns out where no cell has them', () => {
  const t = buildResultsTable(buildResults([makeRecord({ engine: 'uring' }), makeRecord({ engine: 'uring-poll', irqsPerIo: 0.004 })]));
  const col = (h: string) => t.headers.indexOf(h);
  assert.ok(col('sys CPU/IO') === col('CPU ns/IO') + 1 && col('irqs/IO') === col('sys CPU/IO') + 1, t.headers.join(', '));
  assert.deepEqual(t.rows.map((r) => [r[0], r[col('sys CPU/IO')], r[col('irqs/IO')]]), [['uring', '2210', '0.98'], ['uring-poll', '2210', '0.00']]);
  const v1 = buildResultsTable(buildResults([makeRecord({ sysCpuNsPerIo: NaN, irqsPerIo: NaN, ctxswPerIo: NaN })]));
  assert.ok(!v1.headers.includes('sys CPU/IO') && !v1.headers.includes('irqs/IO'), v1.headers.join(', '));
});
