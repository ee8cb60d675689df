// The check --explain's tests share: a record's layers add up to the CPU
// its workers measured.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { RunRecord } from '../src/model.js';
import { runCli } from './cli.js';

/** Steal time so far, in ms over all CPUs (/proc/stat, USER_HZ ticks): the host running something else. */
function stealMs(): number {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  return Number(cpu[8] ?? 0) * 10;
}

/** Run the CLI and say whether the host stole CPU meanwhile (over 2% of the wall time on any CPU). */
export function runMeasured(args: string[]): ReturnType<typeof runCli> & { stolen: boolean } {
  const t0 = Date.now();
  const s0 = stealMs();
  const r = runCli(args);
  return { ...r, stolen: stealMs() - s0 > 0.02 * (Date.now() - t0) };
}


/**
 * The check the issue asks for: the layers add up to the CPU the workers
 * measured (getrusage), within 10%. And a sanity check of the sampler: the perf
 * clock that drove the samples counted about that same CPU, within 25%. The
 * two are not the same clock: steal time, and interrupts taken while a worker
 * runs (a loop device completes I/O in them), count in the one and not always
 * in the other; 10% failed now and then on a loaded 2-core VM (1.101 once in
 * CI on a loop device). On a run the host stole from, only the first holds.
 */
export function assertLayersAddUp(r: RunRecord, stolen: boolean): void {
  const ex = r.explain;
  assert.ok(ex, `${r.engine}: the record has an explain object`);
  assert.ok(ex.samples >= 100, `${r.engine}: ${ex.samples} samples`);
  assert.equal(ex.lost, 0, `${r.engine}: no samples lost`);
  const layerSum = Object.values(ex.layers).reduce((s, l) => s + l.nsPerIo, 0) * r.ios;
  assert.ok(Math.abs(layerSum / ex.cpuNs - 1) < 0.1, `${r.engine}: layers ${(layerSum / 1e6).toFixed(1)} ms against measured CPU ${(ex.cpuNs / 1e6).toFixed(1)} ms`);
  const cpuNsPerIo = (r.cpuNsPerIo * r.ios) / ex.cpuNs;
  assert.ok(Math.abs(cpuNsPerIo - 1) < 0.01, 'explain measured the CPU the results table shows');
  // With a PMU the event counts cycles, which have no fixed ns: nothing to compare.
  if (ex.event === 'cpu-clock' && !stolen) {
    assert.ok(ex.eventNs !== undefined && ex.eventNs > 0, 'the cpu-clock counted');
    const ratio = ex.eventNs / ex.cpuNs;
    assert.ok(ratio > 0.8 && ratio < 1.25, `${r.engine}: perf cpu-clock ${(ex.eventNs / 1e6).toFixed(1)} ms against getrusage ${(ex.cpuNs / 1e6).toFixed(1)} ms (${ratio.toFixed(3)})`);
  }
  const pct = Object.values(ex.layers).reduce((s, l) => s + l.pct, 0);
  assert.ok(Math.abs(pct - 100) < 0.01, `shares sum to ${pct}%`);
}
