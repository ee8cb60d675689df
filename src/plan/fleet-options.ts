// The run options a fleet needs (deploy/ansible/ passes them on every host):
// --fleet-run-id, recorded in every record so that one fleet run's files can
// be told from another's, and --start-at, a wall-clock start barrier for runs
// that must overlap across hosts (shared fabric targets). Hosts agree on the
// wall clock (NTP), not on CLOCK_MONOTONIC, so the barrier is a unix time.
import { usageError } from '../errors.js';

/** A fleet run id names a results folder (results/<id>/<host>/): no slashes, no blanks. */
const FLEET_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseFleetRunId(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!FLEET_RUN_ID.test(text)) {
    throw usageError(`--fleet-run-id ${JSON.stringify(text)} is not a fleet run id`, 'use 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit, e.g. --fleet-run-id fw-2026-11-28');
  }
  return text;
}

/** How far ahead a start barrier may be: a day. Further is a typo (milliseconds for seconds). */
const MAX_AHEAD_S = 86_400;

/** --start-at <unix time in seconds>: the wall-clock instant, in ms since the epoch. */
export function parseStartAt(text: string | undefined, nowMs = Date.now()): number | undefined {
  if (text === undefined) return undefined;
  const s = Number(text.trim());
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !Number.isFinite(s)) {
    throw usageError(`--start-at ${text} is not a unix time`, 'give seconds since 1970 such as --start-at $(($(date +%s) + 60))');
  }
  if (s * 1000 - nowMs > MAX_AHEAD_S * 1000) {
    throw usageError(`--start-at ${text} is ${Math.round((s * 1000 - nowMs) / 3_600_000)} hours away`, 'give seconds since 1970 (not milliseconds), at most a day ahead, e.g. --start-at $(($(date +%s) + 60))');
  }
  return s * 1000;
}

/**
 * Wait for the barrier; a late host starts at once and says by how much.
 * Resolves false when stop() asks it to give up (Ctrl-C during the wait).
 */
export async function waitForStart(startAtMs: number | undefined, say: (line: string) => void, stop: { requested: () => boolean }): Promise<boolean> {
  if (startAtMs === undefined) return true;
  const wait = startAtMs - Date.now();
  if (wait <= 0) {
    say(`nvmebench: --start-at was ${(-wait / 1000).toFixed(1)} s ago: starting now, late\n`);
    return true;
  }
  say(`nvmebench: waiting ${(wait / 1000).toFixed(1)} s for --start-at ${new Date(startAtMs).toISOString()}\n`);
  while (Date.now() < startAtMs) {
    if (stop.requested()) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(200, Math.max(1, startAtMs - Date.now()))));
  }
  return !stop.requested();
}
