// nvmebench explain results.json --baseline uring --engine pt-poll: where one
// engine spends its CPU against another, layer by layer, from a run made with
// --explain --json.
import type { Command } from 'commander';
import { buildResults } from '../analysis/results.js';
import { usageError } from '../errors.js';
import { readResultsFile } from '../export/read.js';
import { diffLayers, diffSentence } from '../explain/diff.js';
import { LAYER_TITLES } from '../explain/layers.js';
import { ENGINE_NAMES } from '../model.js';
import { explainGroups } from '../output/explain.js';
import { drawTable } from '../output/render.js';

interface ExplainOptions {
  baseline?: string;
  engine?: string;
}

const ns = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));
const signed = (x: number): string => (x > 0 ? '+' : x < 0 ? '-' : '±') + ns(Math.abs(x));

function checkEngineName(name: string, flag: string): void {
  if (!(ENGINE_NAMES as readonly string[]).includes(name)) {
    throw usageError(`${flag} ${name}: no such engine`, `use one of ${ENGINE_NAMES.join(', ')}`);
  }
}

export async function explainDiff(file: string, opts: ExplainOptions): Promise<string> {
  const { records } = await readResultsFile(file);
  const results = buildResults(records);
  const groups = explainGroups(results);
  if (!groups.length) throw usageError(`${file} holds no --explain data`, 'run the benchmark with --explain --json FILE and give that file');
  const engines = [...new Set(groups.flatMap((g) => g.cells.map((c) => c.config.engine)))];
  const baseline = opts.baseline ?? engines[0];
  const engine = opts.engine ?? engines.find((e) => e !== baseline);
  checkEngineName(baseline, '--baseline');
  if (engine === undefined) throw usageError(`${file} has --explain data for ${baseline} only`, 'give a file with two engines, or name them with --baseline and --engine');
  checkEngineName(engine, '--engine');
  for (const [flag, e] of [['--baseline', baseline], ['--engine', engine]] as const) {
    if (!engines.includes(e)) throw usageError(`${flag} ${e}: ${file} has no --explain data for ${e}`, `use one of ${engines.join(', ')}`);
  }
  if (baseline === engine) throw usageError(`--baseline and --engine are both ${engine}`, 'name two different engines');
  const out: string[] = [];
  for (const group of groups) {
    const base = group.cells.find((c) => c.config.engine === baseline)?.explain;
    const other = group.cells.find((c) => c.config.engine === engine)?.explain;
    if (!base || !other) continue;
    const diffs = diffLayers(base, other);
    const rows = diffs.map((d) => [LAYER_TITLES[d.layer], ns(d.baseNsPerIo), ns(d.nsPerIo), signed(d.diff)]);
    rows.push(['sum of layers', ns(base.sampledNsPerIo), ns(other.sampledNsPerIo), signed(other.sampledNsPerIo - base.sampledNsPerIo)]);
    out.push(`${engine} against ${baseline}: ${group.title} (ns/IO, largest difference first)`);
    out.push(drawTable({ headers: ['layer', baseline, engine, 'difference'], rows, align: ['left', 'right', 'right', 'right'] }));
    out.push(diffSentence(engine, baseline, diffs, base, other) + '.', '');
  }
  if (!out.length) throw usageError(`${file} has no cell where both ${baseline} and ${engine} ran with --explain`, 'run both engines in one run with --explain');
  return out.join('\n');
}

export function register(program: Command): void {
  program
    .command('explain')
    .description('compare where two engines spend their CPU, layer by layer, from a run made with --explain --json')
    .argument('<results>', 'results file written with --explain --json')
    .option('--baseline <engine>', 'the engine to compare against (default: the first in the file)')
    .option('--engine <engine>', 'the engine to explain (default: the next in the file)')
    .action(async (file: string, opts: ExplainOptions) => {
      process.stdout.write((await explainDiff(file, opts)) + '\n');
    });
}
