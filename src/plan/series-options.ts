// --interval, --series-csv, --precondition and --steady-state: checked and
// given their defaults here, with the bad-input rules of issue 16 (an
// interval under 100 ms, a window that does not fit in --runtime).
import { usageError } from '../errors.js';
import type { SteadyMetric } from '../model.js';
import { parseDuration } from './units.js';

export interface SteadyRule {
  metric: SteadyMetric;
  /** The slope excursion allowed, % of the mean; the range may be twice it. */
  slopePct: number;
  rounds: number;
  /** As given, normalised: iops:10%:5. */
  text: string;
}

export type PreconditionKind = 'seq' | 'rand' | 'snia';

export interface PreconditionPlan {
  kind: PreconditionKind;
  /** Sequential passes over the region (seq:N; 2 by default, as SNIA PTS). */
  passes: number;
}

export interface SeriesPlan {
  intervalMs: number;
  seriesCsv: string | undefined;
  precondition: PreconditionPlan | undefined;
  steady: SteadyRule | undefined;
}

export interface RawSeriesOptions {
  interval?: string;
  seriesCsv?: string;
  precondition?: string;
  steadyState?: string;
}

export const DEFAULT_INTERVAL_MS = 1000;
export const MIN_INTERVAL_MS = 100;
/** What --precondition snia implies when no --steady-state is given: the PTS rule. */
export const SNIA_STEADY = 'iops:10%:5';

const METRICS: readonly SteadyMetric[] = ['iops', 'bw', 'p99'];

/** --steady-state METRIC:PCT%:ROUNDS, e.g. iops:10%:5. */
export function parseSteadyRule(text: string): SteadyRule {
  const m = /^(\w+):(\d+(?:\.\d+)?)%?:(\d+)$/.exec(text.trim());
  const fix = 'use --steady-state iops:10%:5 (figure iops, bw or p99; slope within 10% of the mean, range within 20%; over 5 intervals)';
  if (!m) throw usageError(`--steady-state ${text} is not METRIC:PCT%:ROUNDS`, fix);
  const metric = m[1] as SteadyMetric;
  if (!METRICS.includes(metric)) throw usageError(`--steady-state figure '${m[1]}' is not iops, bw or p99`, fix);
  const slopePct = Number(m[2]);
  if (!(slopePct > 0 && slopePct <= 100)) throw usageError(`--steady-state ${text}: the percentage must be above 0 and at most 100`, fix);
  const rounds = Number(m[3]);
  if (!(rounds >= 2 && rounds <= 1000)) throw usageError(`--steady-state ${text}: a window needs 2 to 1000 rounds`, fix);
  return { metric, slopePct, rounds, text: `${metric}:${slopePct}%:${rounds}` };
}

/** --precondition seq|rand|snia, with an optional pass count: seq:3. */
export function parsePrecondition(text: string): PreconditionPlan {
  const m = /^(seq|rand|snia)(?::(\d+))?$/.exec(text.trim());
  const fix = 'use --precondition seq (2 sequential passes), seq:N, rand (then random writes) or snia (the PTS-E sequence)';
  if (!m) throw usageError(`--precondition ${text} is not seq, rand or snia`, fix);
  const passes = m[2] === undefined ? 2 : Number(m[2]);
  if (!(passes >= 1 && passes <= 16)) throw usageError(`--precondition ${text}: the passes must be 1 to 16`, fix);
  return { kind: m[1] as PreconditionKind, passes };
}

export function parseSeriesOptions(raw: RawSeriesOptions, run: { runtimeMs: number; ioLimit: number; command: boolean }): SeriesPlan {
  const intervalMs = raw.interval !== undefined ? parseDuration(raw.interval, '--interval') : DEFAULT_INTERVAL_MS;
  if (intervalMs < MIN_INTERVAL_MS) {
    throw usageError(`--interval ${raw.interval} is under ${MIN_INTERVAL_MS} ms`, `give --interval ${MIN_INTERVAL_MS}ms or more (1s by default)`);
  }
  const precondition = raw.precondition !== undefined ? parsePrecondition(raw.precondition) : undefined;
  if (precondition && run.command) {
    throw usageError('--precondition applies to reads and writes, not to NVMe command workloads', 'precondition with a separate nvmebench write --precondition seq run first');
  }
  const steadyText = raw.steadyState ?? (precondition?.kind === 'snia' ? SNIA_STEADY : undefined);
  const steady = steadyText !== undefined ? parseSteadyRule(steadyText) : undefined;
  if (steady && !run.ioLimit && steady.rounds * intervalMs > run.runtimeMs) {
    const need = Math.ceil((steady.rounds * intervalMs) / 1000);
    throw usageError(
      `--steady-state ${steady.text} needs ${steady.rounds} intervals of ${intervalMs} ms (${need} s), longer than --runtime ${run.runtimeMs / 1000}s: it could never be evaluated`,
      `give --runtime ${need * 4}s or more, a shorter --interval, or fewer rounds`,
    );
  }
  return { intervalMs, seriesCsv: raw.seriesCsv, precondition, steady };
}
