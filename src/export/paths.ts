// Where results go when --csv/--json/--md is given without a path.
import { join } from 'node:path';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local time as YYYYMMDD-HHMMSS: sorts by time, safe in file names. */
export function fileTimestamp(now: Date = new Date()): string {
  return (
    `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-` +
    `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`
  );
}

/** Keep letters, digits, dot, dash, underscore; everything else becomes '-'. */
export function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return s || 'run';
}

/**
 * results/<YYYYMMDD-HHMMSS>-<name>.<ext>, e.g. defaultResultPath('csv', 'randread')
 * → results/20261123-141239-randread.csv. Relative to the working directory.
 */
export function defaultResultPath(ext: string, name: string, now: Date = new Date(), dir = 'results'): string {
  return join(dir, `${fileTimestamp(now)}-${safeName(name)}.${ext.replace(/^\./, '')}`);
}
