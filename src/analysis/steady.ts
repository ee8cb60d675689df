// The SNIA PTS steady-state rule over a window of rounds (one round is one
// --interval): the figure's range (max - min) is within twice the given
// percentage of the window's mean, and the excursion of its least-squares
// line across the window (|slope| × (rounds - 1)) within the percentage.
// --steady-state iops:10%:5 is PTS's own: 20% range, 10% slope, 5 rounds.
import type { SteadyRule } from '../plan/series-options.js';

export type { SteadyRule };

export interface SteadyVerdict {
  steady: boolean;
  /** Index into the values of the window's first round. */
  start: number;
  rangePct: number;
  slopePct: number;
}

/** The least-squares slope of values against 0, 1, 2… */
export function leastSquaresSlope(values: readonly number[]): number {
  const n = values.length;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return den ? num / den : 0;
}

/**
 * The rule over the last rule.rounds values: undefined while there are fewer
 * (too short to say). A window with a non-finite figure or a mean of 0 is not steady.
 */
export function evaluateSteady(values: readonly number[], rule: Pick<SteadyRule, 'slopePct' | 'rounds'>): SteadyVerdict | undefined {
  if (values.length < rule.rounds) return undefined;
  const start = values.length - rule.rounds;
  const window = values.slice(start);
  const mean = window.reduce((a, b) => a + b, 0) / window.length;
  if (!window.every(Number.isFinite) || !(mean > 0)) return { steady: false, start, rangePct: NaN, slopePct: NaN };
  const rangePct = ((Math.max(...window) - Math.min(...window)) / mean) * 100;
  const slopePct = ((Math.abs(leastSquaresSlope(window)) * (window.length - 1)) / mean) * 100;
  return { steady: rangePct <= 2 * rule.slopePct && slopePct <= rule.slopePct, start, rangePct, slopePct };
}
