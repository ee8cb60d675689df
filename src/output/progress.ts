// Progress on stderr, in hyperfine's manner, and only on a terminal:
//   cell 3/20 uring QD 64 ▕████████░░░░░░░░▏ 1m12s left
// for a run's cells and repeats, and a bar with bytes or items and an ETA for
// the lab's slow first steps. cli-progress draws them: it redraws one line in
// place at a steady rate, prints log lines (the live IOPS line) above it,
// crops to the terminal's width and hides the cursor, the terminal handling
// we would otherwise write and test ourselves. Nothing here is on the I/O hot
// path: the native workers run in their own threads.
import cliProgress from 'cli-progress';
import type { LiveStats } from '../model.js';
import { painterFor, type Painter } from './color.js';

type Stream = NodeJS.WriteStream;

const BAR_WIDTH = 20;

/** "1m12s", "45s", "1h02m": an ETA as people read it. */
export function formatEta(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** ▕████░░░░▏ for a fraction in [0, 1]. */
export function drawBar(fraction: number, paint: Painter, width = BAR_WIDTH): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `▕${full ? paint.cyan('█'.repeat(full)) : ''}${'░'.repeat(width - full)}▏`;
}

function multiBar(stream: Stream, format: () => string): cliProgress.MultiBar {
  // gracefulExit off: the caller's SIGINT handler stops the run, and stop() runs in its finally.
  return new cliProgress.MultiBar({ stream, format, fps: 4, hideCursor: true, clearOnComplete: true, gracefulExit: false });
}

/** Whether a progress line may be drawn on this stream: a terminal, and not --quiet. */
export function progressWanted(quiet: boolean, stream: { isTTY?: boolean } = process.stderr): boolean {
  return !quiet && !!stream.isTTY;
}

/** What a run's length is known from: --runtime and --ramp, or --ios. */
export interface RunEstimate {
  /** Runs in all: cells × (warmup + repeat). */
  runs: number;
  /** Ramp plus runtime of one run, ms; unused with ioLimit. */
  runMs: number;
  /** --ios: the run ends after this many I/Os, so the ETA comes from the rate so far. */
  ioLimit?: number;
}

export class RunProgress {
  private readonly multi: cliProgress.MultiBar;
  private readonly paint: Painter;
  private readonly started = Date.now();
  private index = 0;
  private label = '';
  private runStarted = Date.now();
  private runFraction = 0;
  private finishedMs = 0;
  private finished = 0;
  private stopped = false;

  static forTerminal(quiet: boolean, estimate: RunEstimate, stream: Stream = process.stderr): RunProgress | undefined {
    return progressWanted(quiet, stream) && estimate.runs > 0 ? new RunProgress(estimate, stream) : undefined;
  }

  constructor(
    private readonly estimate: RunEstimate,
    private readonly stream: Stream,
  ) {
    this.paint = painterFor(stream);
    this.multi = multiBar(stream, () => this.line());
    this.multi.create(estimate.runs, 0);
  }

  /** The fraction of all runs done, the current one counted in part. */
  fraction(): number {
    return Math.min(1, (this.index + this.runFraction) / this.estimate.runs);
  }

  /** Milliseconds left: the plan's run length (or the runs so far, when they took longer); with --ios, the rate so far. */
  remainingMs(now = Date.now()): number | undefined {
    const { runs, runMs, ioLimit } = this.estimate;
    if (ioLimit === undefined && runMs > 0) {
      const perRun = this.finished > 0 ? Math.max(runMs, this.finishedMs / this.finished) : runMs;
      const inRun = Math.min(1, (now - this.runStarted) / perRun);
      return perRun * (runs - this.index - inRun);
    }
    const done = this.fraction();
    return done > 0 ? ((now - this.started) * (1 - done)) / done : undefined;
  }

  line(): string {
    const left = this.remainingMs();
    const eta = left === undefined ? 'estimating' : `${formatEta(left)} left`;
    return `cell ${this.index + 1}/${this.estimate.runs} ${this.label} ${drawBar(this.fraction(), this.paint)} ${eta}`;
  }

  /** A run begins: index counts from 0 over all runs. */
  begin(index: number, label: string): void {
    this.index = index;
    this.label = label;
    this.runStarted = Date.now();
    this.runFraction = 0;
  }

  /** The worker's counters, once a second: how far the run is. */
  tick(stats: LiveStats): void {
    const { ioLimit, runMs } = this.estimate;
    if (ioLimit !== undefined) this.runFraction = stats.ramping ? 0 : Math.min(1, stats.ios / ioLimit);
    else this.runFraction = runMs > 0 ? Math.min(1, stats.elapsedMs / runMs) : 0;
  }

  end(): void {
    this.finishedMs += Date.now() - this.runStarted;
    this.finished++;
    this.runFraction = 1;
  }

  /** A line printed above the progress line (it ends in "\n"); once the line is gone, straight to the stream. */
  log(text: string): void {
    if (this.stopped) this.stream.write(text);
    else this.multi.log(text);
  }

  /** Flush what was logged and clear the progress line. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multi.update();
    this.multi.stop();
  }
}

/** Bytes as people read them: 12.3 MiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/**
 * One step with a known size, for the lab: "kernel download ▕███░░░▏ 80.2 MiB/240.0 MiB 35s left".
 * Update it from a timer (async work) or between items (sync work: update draws at once when due).
 */
export class TaskProgress {
  private readonly multi: cliProgress.MultiBar;
  private readonly paint: Painter;
  private readonly started = Date.now();
  private value = 0;

  static forTerminal(quiet: boolean, what: string, total: number, unit: 'bytes' | 'items', stream: Stream = process.stderr, prefix = 'lab'): TaskProgress | undefined {
    return progressWanted(quiet, stream) && total > 0 ? new TaskProgress(what, total, unit, stream, prefix) : undefined;
  }

  constructor(
    private readonly what: string,
    private readonly total: number,
    private readonly unit: 'bytes' | 'items',
    stream: Stream,
    private readonly prefix = 'lab',
  ) {
    this.paint = painterFor(stream);
    this.multi = multiBar(stream, () => this.line());
    this.multi.create(total, 0);
  }

  line(): string {
    const fraction = Math.min(1, this.value / this.total);
    const amount = this.unit === 'bytes' ? `${formatBytes(this.value)}/${formatBytes(this.total)}` : `${this.value}/${this.total}`;
    const elapsed = Date.now() - this.started;
    const eta = fraction > 0 ? `${formatEta((elapsed * (1 - fraction)) / fraction)} left` : 'estimating';
    return `${this.prefix}: ${this.what} ${drawBar(fraction, this.paint)} ${amount} ${eta}`;
  }

  /** Set how far the step is; draws now (synchronous callers never yield to the redraw timer). */
  update(value: number): void {
    this.value = value;
    this.multi.update();
  }

  stop(): void {
    this.multi.update();
    this.multi.stop();
  }
}
