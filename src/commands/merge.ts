// nvmebench merge results/<fleet-run-id>/ -o fleet.csv [--json fleet.json] [--outlier 15%] [--fail-on-outliers]
// Many hosts' results files as one fleet file, and a summary of IOPS across hosts.
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { fleetSummary, findResultFiles, mergeResults, parseOutlier, type FleetGroup } from '../fleet/merge.js';
import { toCsv } from '../export/csv.js';
import { toJson } from '../export/json.js';
import { checkOutputPath, writeExport, type OutputPath } from '../export/fsutil.js';
import { drawTable } from '../output/render.js';
import { formatKiops } from '../output/format.js';
import { describeConfig } from '../output/labels.js';
import type { Outcome } from './outcome.js';
import { fleetProblems } from '../fleet/status.js';

interface MergeOptions {
  output?: string;
  json?: string;
  outlier: string;
  failOnOutliers?: boolean;
}

function summaryTable(groups: FleetGroup[]): string {
  const rows = groups.map((g) => [
    g.config.deviceModel || '(no model)',
    g.config.deviceFirmware || '?',
    describeConfig(g.config, ['workload', 'engine', 'blockSize', 'ioDepth', 'threads']),
    String(g.hosts.length),
    formatKiops(g.median),
    `${formatKiops(g.p10)}–${formatKiops(g.p90)}`,
    g.outliers.length ? g.outliers.map((o) => `${o.host} (−${o.belowPct.toFixed(0)}%)`).join(', ') : '-',
  ]);
  return drawTable({
    headers: ['model', 'firmware', 'configuration', 'hosts', 'median KIOPS', 'p10–p90', 'outliers'],
    rows,
    align: ['left', 'left', 'left', 'right', 'right', 'right', 'left'],
  });
}

export function register(program: Command): void {
  program
    .command('merge')
    .description("combine many hosts' results (the .csv and .json files under the directories) into one fleet file, with a summary per device model, firmware and configuration")
    .argument('<dirs...>', 'directories of results, e.g. results/<fleet-run-id>/ holding <host>/ folders')
    .option('-o, --output <file>', 'write the merged records as CSV')
    .option('--json <file>', 'write the merged records as JSON')
    .option('--outlier <pct>', 'name the hosts more than this far below the median IOPS', '15%')
    .option('--fail-on-outliers', 'exit 1 when any host is an outlier (a host that failed in the playbook always exits 1)')
    .action(async (dirs: string[], opts: MergeOptions): Promise<Outcome> => {
      const threshold = parseOutlier(opts.outlier);
      // The playbook's status files: hosts that failed are named, whatever the others delivered.
      const fleet = fleetProblems(dirs);
      const files = findResultFiles(dirs, fleet.problems.length > 0);
      const sayProblems = (): void => {
        for (const p of fleet.problems) process.stdout.write(`host ${p.host}: ${p.why}\n`);
      };
      if (!files.length) {
        process.stdout.write(`fleet: no results from any of ${fleet.expected.length} host${fleet.expected.length === 1 ? '' : 's'}\n`);
        sayProblems();
        return 'failed';
      }
      // Checked before anything is read or written: never a directory, never one of the inputs.
      const inputs = { paths: files, what: 'one of the inputs of this merge' };
      const csvOut: OutputPath | undefined = opts.output ? checkOutputPath(opts.output, { flag: '-o', target: inputs }) : undefined;
      const jsonOut: OutputPath | undefined = opts.json ? checkOutputPath(opts.json, { flag: '--json', target: inputs }) : undefined;
      if (csvOut && jsonOut && csvOut.path === jsonOut.path) throw usageError(`-o and --json both name ${opts.output}`, 'give the CSV and the JSON different file names');
      const { records, duplicates, schemaVersion } = await mergeResults(files);
      const groups = fleetSummary(records, threshold);
      const hosts = new Set(records.map((r) => r.env.hostname));
      process.stdout.write(`fleet: ${records.length} records from ${hosts.size} host${hosts.size === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'} (schema v${schemaVersion})${duplicates ? `, ${duplicates} exact duplicate${duplicates === 1 ? '' : 's'} dropped` : ''}\n`);
      if (groups.length) process.stdout.write(summaryTable(groups) + '\n');
      for (const g of groups) {
        for (const o of g.outliers) {
          process.stdout.write(`outlier: ${o.host}: ${formatKiops(o.iops)} KIOPS, ${o.belowPct.toFixed(1)}% below the median ${formatKiops(g.median)} (${g.config.deviceModel || '(no model)'} fw ${g.config.deviceFirmware || '?'} ${describeConfig(g.config, ['workload', 'engine', 'blockSize', 'ioDepth', 'threads'])})\n`);
        }
      }
      if (fleet.expected.length) {
        process.stdout.write(`fleet: ${fleet.expected.length - fleet.problems.length} of ${fleet.expected.length} host${fleet.expected.length === 1 ? '' : 's'} finished${fleet.problems.length ? `; ${fleet.problems.length} did not (their results, if any, are kept):` : ''}\n`);
        sayProblems();
      }
      for (const [out, text] of [[csvOut, () => toCsv(records)], [jsonOut, () => toJson(records)]] as const) {
        if (!out) continue;
        writeExport(out, text());
        process.stderr.write(`nvmebench: fleet results written to ${out.given}\n`);
      }
      const outliers = groups.some((g) => g.outliers.length > 0);
      return (outliers && opts.failOnOutliers) || fleet.problems.length > 0 ? 'failed' : 'ok';
    });
}
