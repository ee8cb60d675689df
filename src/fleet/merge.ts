// Many hosts' results as one fleet: find the results files under the given
// directories, read them (one schema version, or refused), drop exact
// duplicates, and summarise IOPS across hosts per device model, firmware and
// configuration, naming the hosts that fall behind the median.
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import type { RunRecord } from '../model.js';
import { cellConfig, configKey, type CellConfig } from '../analysis/stats.js';
import { checkSchema, readResultsFile } from '../export/read.js';
import { isFleetBookkeeping } from './status.js';

/** Every .csv and .json under the directories (depth-first, sorted), JSON first in each folder. */
export function findResultFiles(dirs: string[], allowEmpty = false): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const ext of ['.json', '.csv']) {
      for (const e of entries) if (e.isFile() && e.name.toLowerCase().endsWith(ext) && !isFleetBookkeeping(e.name)) found.push(path.join(dir, e.name));
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) throw usageError(`${dir} does not exist`, 'give the directories the hosts\' results were fetched into, e.g. results/<fleet-run-id>/');
    if (!fs.statSync(dir).isDirectory()) throw usageError(`${dir} is not a directory`, 'give directories of results (merge finds every .csv and .json under them)');
    const before = found.length;
    walk(dir);
    if (found.length === before && !allowEmpty) throw usageError(`${dir} holds no results (no .csv or .json file under it)`, 'give the directory the hosts\' results were fetched into, or fetch them first');
  }
  return found;
}

export interface MergedRecords {
  records: RunRecord[];
  files: string[];
  schemaVersion: number;
  duplicates: number;
}

/** What makes two records the same measurement: run id, repeat, host, target and cell. */
function identity(r: RunRecord): string {
  const target = r.aggregate ? 'all' : `${r.targetIndex ?? ''}:${r.target.path}`;
  return [r.runId, r.repeat, r.env.hostname, target, configKey(cellConfig(r))].join('|');
}

/** Read every file; refuse a second schema version naming the file; drop exact duplicates (a run's CSV beside its JSON). */
export async function mergeResults(files: string[]): Promise<MergedRecords> {
  const records: RunRecord[] = [];
  const seen = new Set<string>();
  let schema: { version: number; file: string } | undefined;
  let duplicates = 0;
  for (const file of files) {
    const read = await readResultsFile(file);
    checkSchema(read); // the first departure from the file's published schema, named
    const found = read.records;
    if (!found.length) throw usageError(`${file} holds no records`, 'remove it, or re-fetch it from its host');
    for (const r of found) {
      if (!schema) schema = { version: r.schemaVersion, file };
      if (r.schemaVersion !== schema.version) {
        throw usageError(`${file} is schema v${r.schemaVersion} but ${schema.file} is v${schema.version}`, 'merge files of one schema version: re-run the older hosts with this nvmebench, or merge each version into its own fleet file');
      }
      const key = identity(r);
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
      records.push(r);
    }
  }
  return { records, files, schemaVersion: schema?.version ?? 0, duplicates };
}

export interface FleetGroup {
  config: CellConfig;
  /** Each host's IOPS: the mean of its ok records of this configuration (repeats, runs). */
  hosts: Array<{ host: string; iops: number }>;
  median: number;
  p10: number;
  p90: number;
  /** Hosts more than the threshold below the median. */
  outliers: Array<{ host: string; iops: number; belowPct: number }>;
}

/** Linear-interpolated quantile (0..1) of sorted values. */
function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * One group per device model, firmware and configuration. A multi-target
 * run counts by its aggregate rows (its per-target rows would count the host
 * once per target).
 */
export function fleetSummary(records: RunRecord[], outlierFraction: number): FleetGroup[] {
  const groups = new Map<string, { config: CellConfig; byHost: Map<string, number[]> }>();
  for (const r of records) {
    if (r.status !== 'ok' || r.targetIndex !== undefined) continue;
    const config = cellConfig(r);
    const key = configKey(config, ['target', 'cpus', 'size']);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { config, byHost: new Map() }));
    const host = r.env.hostname || '(no hostname)';
    g.byHost.set(host, [...(g.byHost.get(host) ?? []), r.iops]);
  }
  return [...groups.values()].map(({ config, byHost }) => {
    const hosts = [...byHost].map(([host, v]) => ({ host, iops: v.reduce((s, x) => s + x, 0) / v.length })).sort((a, b) => a.host.localeCompare(b.host));
    const sorted = hosts.map((h) => h.iops).sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    const outliers = hosts.filter((h) => h.iops < median * (1 - outlierFraction)).map((h) => ({ ...h, belowPct: (1 - h.iops / median) * 100 }));
    return { config, hosts, median, p10: quantile(sorted, 0.1), p90: quantile(sorted, 0.9), outliers };
  });
}

/** --outlier 15% (or 15): a fraction from 0 to 1. */
export function parseOutlier(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const pct = m ? Number(m[1]) : NaN;
  if (!(pct > 0 && pct < 100)) throw usageError(`--outlier ${text} is not a percentage between 0 and 100`, 'give it as --outlier 15%');
  return pct / 100;
}
