// The live line, once a second, in the manner of t/io_uring:
//   IOPS=1.02M, BW=498MiB/s, IOS/call=32/31
// Written to stderr, and only when stdout is a terminal and --quiet is off.
import type { LiveStats } from '../model.js';

export function formatIops(iops: number): string {
  if (iops >= 1e6) return `${(iops / 1e6).toFixed(2)}M`;
  if (iops >= 1e3) return `${(iops / 1e3).toFixed(2)}K`;
  return `${Math.round(iops)}`;
}

export function formatLiveLine(prev: LiveStats, now: LiveStats): string {
  const seconds = Math.max(1e-3, (now.elapsedMs - prev.elapsedMs) / 1000);
  // Outside the measured interval the worker counts I/Os apart, so ramp and read-back show their own figures.
  const ios = now.ramping ? now.unmeasuredIos - prev.unmeasuredIos : now.ios - prev.ios;
  const bytes = now.ramping ? now.unmeasuredBytes - prev.unmeasuredBytes : now.bytes - prev.bytes;
  const submitCalls = now.submitCalls - prev.submitCalls;
  const reapCalls = now.reapCalls - prev.reapCalls;
  const perSubmit = submitCalls > 0 ? Math.round((now.submitted - prev.submitted) / submitCalls) : 0;
  const perReap = reapCalls > 0 ? Math.round((now.reaped - prev.reaped) / reapCalls) : 0;
  const mib = bytes / seconds / (1024 * 1024);
  const errors = now.errors > 0 ? `, errors=${now.errors}` : '';
  const phase = now.verifying ? ' (read-back)' : now.ramping ? ' (ramp)' : '';
  return `IOPS=${formatIops(ios / seconds)}, BW=${mib >= 10 ? Math.round(mib) : mib.toFixed(1)}MiB/s, IOS/call=${perSubmit}/${perReap}${errors}${phase}`;
}

const ZERO: LiveStats = {
  ios: 0,
  bytes: 0,
  submitCalls: 0,
  reapCalls: 0,
  submitted: 0,
  reaped: 0,
  errors: 0,
  elapsedMs: 0,
  ramping: false,
  unmeasuredIos: 0,
  unmeasuredBytes: 0,
  verifying: false,
};

export class LiveLine {
  private prev: LiveStats | undefined;
  private rampMs = 0;

  constructor(private readonly write: (text: string) => void = (t) => process.stderr.write(t)) {}

  /** write: where the lines go (above the progress line when one is drawn); stderr by default. */
  static forTerminal(quiet: boolean, write?: (text: string) => void): LiveLine | undefined {
    return !quiet && process.stdout.isTTY ? new LiveLine(write) : undefined;
  }

  begin(label: string, rampMs = 0): void {
    this.prev = undefined;
    this.rampMs = rampMs;
    this.write(`${label}\n`);
  }

  tick(stats: LiveStats): void {
    let base = this.prev ?? { ...ZERO, ramping: this.rampMs > 0 };
    if (!stats.ramping && (base.ramping || stats.submitCalls < base.submitCalls)) {
      // The measured interval began at the ramp's end with its counters at zero: count from there.
      base = { ...ZERO, elapsedMs: Math.max(base.elapsedMs, this.rampMs), unmeasuredIos: stats.unmeasuredIos, unmeasuredBytes: stats.unmeasuredBytes };
    }
    this.write(`${formatLiveLine(base, stats)}\n`);
    this.prev = stats;
  }

  end(): void {
    this.prev = undefined;
  }
}
