// A run's time series while it runs: each target's finished intervals are
// drained from the native workers (series()) every interval, summed, and
// with --steady-state checked against the rule; once every target is steady
// the run is stopped. The record then reports the steady window's figures.
import type { NativeJob, RunRecord, SteadyRecord } from '../model.js';
import { native, type NativeRunResult, type RunHandle } from '../native/addon.js';
import { SeriesCollector, steadyFigure } from '../analysis/series.js';
import { evaluateSteady, type SteadyRule, type SteadyVerdict } from '../analysis/steady.js';

/**
 * Finished intervals a worker holds until read: enough for a few seconds of
 * polling slack, fewer with many workers (each slot carries a 15 KiB histogram).
 */
export function seriesJobFields(intervalMs: number, threads: number): { intervalMs: number; seriesSlots: number } {
  return { intervalMs, seriesSlots: Math.max(8, Math.min(64, Math.floor(2048 / threads))) };
}

export interface SeriesOutcome {
  collector: SeriesCollector;
  rule: SteadyRule | undefined;
  verdict: SteadyVerdict | undefined;
  /** The grid index of the verdict's window's first interval. */
  windowStart: number;
  /** The run ended because every target was steady. */
  stoppedSteady: boolean;
}

export class SeriesWatch {
  private readonly collectors: SeriesCollector[];
  private readonly verdicts: Array<{ verdict: SteadyVerdict; windowStart: number } | undefined>;
  private stoppedSteady = false;

  constructor(
    jobs: NativeJob[],
    private readonly rule: SteadyRule | undefined,
  ) {
    this.collectors = jobs.map((j) => new SeriesCollector(j.intervalMs!, j.threads));
    this.verdicts = jobs.map(() => undefined);
  }

  /** Poll every interval (at most once a second without a rule); the timer is the caller's to clear. */
  start(handles: RunHandle[], stopAll: () => void): NodeJS.Timeout {
    const engine = native();
    const every = this.rule ? this.collectors[0].intervalMs : Math.min(1000, this.collectors[0].intervalMs);
    return setInterval(() => {
      handles.forEach((h, t) => {
        this.collectors[t].add(engine.series(h));
        if (this.rule && !this.verdicts[t]?.verdict.steady) this.check(t);
      });
      if (this.rule && !this.stoppedSteady && this.verdicts.every((v) => v?.verdict.steady)) {
        this.stoppedSteady = true;
        stopAll();
      }
    }, every);
  }

  private check(t: number): void {
    const points = this.collectors[t].complete();
    const verdict = evaluateSteady(points.map((p) => steadyFigure(p, this.rule!.metric)), this.rule!);
    if (verdict) this.verdicts[t] = { verdict, windowStart: points[verdict.start].index };
  }

  /** Target t's series once its run ended: the result's leftovers added, the rule's last word. */
  outcome(t: number, result: NativeRunResult): SeriesOutcome {
    this.collectors[t].add(result.series);
    if (this.rule && !this.verdicts[t]?.verdict.steady) this.check(t);
    const v = this.verdicts[t];
    return { collector: this.collectors[t], rule: this.rule, verdict: v?.verdict, windowStart: v?.windowStart ?? 0, stoppedSteady: this.stoppedSteady };
  }
}

/**
 * The record with its series, and with --steady-state the window's figures in
 * place of the whole run's: throughput, latency, CPU over the window (the last
 * window looked at when the run never became steady; every whole interval
 * when there were too few for a window).
 */
export function withSeries(record: RunRecord, outcome: SeriesOutcome | undefined): RunRecord {
  if (!outcome) return record;
  const out: RunRecord = { ...record, series: outcome.collector.record() };
  if (!outcome.rule) return out;
  const complete = outcome.collector.complete();
  const rounds = outcome.verdict ? outcome.rule.rounds : complete.length;
  const start = outcome.verdict ? outcome.windowStart : complete[0]?.index ?? 0;
  const w = outcome.collector.window(start, rounds);
  const steady: SteadyRecord = {
    rule: outcome.rule.text,
    steady: outcome.verdict?.steady ?? false,
    windowStart: start,
    windowStartS: w.startS,
    windowRounds: rounds,
    windowS: rounds ? w.seconds : 0,
    rangePct: outcome.verdict?.rangePct ?? NaN,
    slopePct: outcome.verdict?.slopePct ?? NaN,
  };
  out.steady = steady;
  // Stopped by the rule, not by a person: a whole run.
  if (outcome.stoppedSteady && out.status === 'interrupted') out.status = 'ok';
  if (!rounds) return out;
  const us = w.seconds * 1e6;
  return {
    ...out,
    runtimeS: w.seconds,
    ios: w.ios,
    iops: w.iops,
    bandwidthBps: w.bandwidthBps,
    latency: w.latency,
    histogram: w.histogram,
    cpuUserPct: (w.userUs / us) * 100,
    cpuSysPct: (w.sysUs / us) * 100,
    cpuNsPerIo: w.ios ? ((w.userUs + w.sysUs) * 1000) / w.ios : 0,
  };
}
