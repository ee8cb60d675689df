// nvmebench profile <name|file> <target>: run a JSON profile, with the
// command line's options on top, and print the profile's reference numbers
// next to ours. nvmebench profile --list shows the built-in ones.
import type { Command } from 'commander';
import { BenchError, usageError } from '../errors.js';
import type { RunRecord } from '../model.js';
import { buildPlan, type RawRunOptions } from '../plan/options.js';
import { formatKiops } from '../output/format.js';
import { drawTable } from '../output/render.js';
import { builtinProfileDir, builtinProfileNames, loadProfileFile, mergeOptions, profileCommandLine, resolveProfile, type Profile } from '../plan/profiles.js';
import { prepareTargets } from '../run/targets.js';
import { addRunOptions, executeRun } from './run.js';
import path from 'node:path';
import { buildResults } from '../analysis/results.js';
import { LAYER_TITLES, layerOf, type Layer } from '../explain/layers.js';

interface ProfileCliOptions extends RawRunOptions {
  list?: boolean;
}

/** Ours against the reference: rows QD, columns engine, each cell "ours / reference". */
export function renderReference(profile: Profile, records: RunRecord[]): string {
  const ref = profile.reference;
  if (!ref) return '';
  const engines: string[] = [];
  for (const row of Object.values(ref.values)) for (const e of Object.keys(row)) if (!engines.includes(e)) engines.push(e);
  for (const r of records) if (!engines.includes(r.engine)) engines.push(r.engine);
  const depths = [...new Set([...Object.keys(ref.values).map(Number), ...records.map((r) => r.ioDepth)])].sort((a, b) => a - b);
  const ours = (qd: number, engine: string): number | undefined => {
    const hits = records.filter((r) => r.ioDepth === qd && r.engine === engine && r.status !== 'failed');
    return hits.length ? hits.reduce((s, r) => s + r.iops, 0) / hits.length : undefined;
  };
  const rows = depths.map((qd) => [
    String(qd),
    ...engines.map((engine) => {
      const mine = ours(qd, engine);
      const theirs = ref.values[String(qd)]?.[engine as keyof (typeof ref.values)[string]];
      return `${mine === undefined ? '-' : formatKiops(mine)} / ${theirs === undefined ? '-' : formatKiops(theirs * 1000)}`;
    }),
  ]);
  const emulated = records.some((r) => r.target.emulated);
  const lines = [
    '',
    `KIOPS here / reference (${ref.source})`,
    drawTable({ headers: ['QD', ...engines], rows, align: ['left', ...engines.map(() => 'right' as const)] }),
  ];
  if (emulated) lines.push('This target is emulated: compare the shape (which engine leads), not the numbers.');
  lines.push(...renderPerfReference(profile, records));
  return lines.join('\n') + '\n';
}

/**
 * With --explain: the source's perf percentages beside ours, symbol by symbol
 * and summed per layer, for every engine that ran (the source's is marked).
 */
export function renderPerfReference(profile: Profile, records: RunRecord[]): string[] {
  const perf = profile.reference?.perf;
  const cells = buildResults(records).cells.filter((c) => c.explain);
  if (!perf || !cells.length) return [];
  const engines = cells.map((c) => c.config.engine);
  const pctOf = (engine: string, symbol: string): number => {
    const cell = cells.find((c) => c.config.engine === engine)!;
    return cell.explain!.symbols.filter((s) => s.symbol === symbol || s.symbol.startsWith(`${symbol}.`)).reduce((sum, s) => sum + s.pct, 0);
  };
  const symbols = Object.keys(perf.symbols);
  const layerOfSym = (sym: string): Layer => layerOf(sym, /^nvme/.test(sym) ? 'nvme' : 'kernel.vmlinux', true);
  const rows = symbols.map((sym) => [sym, LAYER_TITLES[layerOfSym(sym)], perf.symbols[sym].toFixed(2), ...engines.map((e) => pctOf(e, sym).toFixed(2))]);
  for (const layer of [...new Set(symbols.map(layerOfSym))]) {
    const listed = symbols.filter((sym) => layerOfSym(sym) === layer);
    const seed = listed.reduce((sum, sym) => sum + perf.symbols[sym], 0);
    rows.push([`= ${LAYER_TITLES[layer]}, these symbols`, '', seed.toFixed(2), ...engines.map((e) => listed.reduce((sum, sym) => sum + pctOf(e, sym), 0).toFixed(2))]);
    rows.push([`= ${LAYER_TITLES[layer]}, whole layer`, '', '', ...cells.map((c) => (c.explain!.layers[layer]?.pct ?? 0).toFixed(2))]);
  }
  const headers = ['symbol', 'layer', `source % (${perf.engine})`, ...engines.map((e) => `here % (${e})`)];
  return ['', `perf: % of the CPU per symbol, here (--explain) and in the source (${profile.reference!.source})`, drawTable({ headers, rows, align: headers.map((_, i) => (i > 1 ? 'right' : 'left')) })];
}

function renderList(): string {
  const names = builtinProfileNames();
  if (!names.length) return `no profiles in ${builtinProfileDir()}\n`;
  const out: string[] = [];
  for (const name of names) {
    try {
      const p = loadProfileFile(path.join(builtinProfileDir(), `${name}.json`));
      out.push(p.name, `  ${p.description}`, `  = nvmebench ${profileCommandLine(p)} <target>`, '');
    } catch (err) {
      out.push(`${name}: invalid: ${err instanceof BenchError ? err.toLine() : (err as Error).message}`, '');
    }
  }
  out.push(`Run one: nvmebench profile <name> <target>; run options after it override the profile's (e.g. --runtime 2).`);
  out.push(`Your own: nvmebench profile my-profile.json <target> (the built-in ones in ${builtinProfileDir()} show the format).`);
  return out.join('\n') + '\n';
}

export function register(program: Command): void {
  const cmd = program
    .command('profile')
    .description('run a JSON run profile (built-in: nvmebench profile --list), options on the command line override it')
    .argument('[profile]', 'a built-in profile name or a profile file')
    .argument('[target]', 'file, /dev/nvmeXnY, /dev/ngXnY');
  cmd.option('--list', 'list the built-in profiles');
  addRunOptions(cmd).action(async (name: string | undefined, target: string | undefined, opts: ProfileCliOptions) => {
    if (opts.list) {
      process.stdout.write(renderList());
      return;
    }
    if (!name) throw usageError('no profile given', 'name one: nvmebench profile seed001-kiops /dev/ng0n1 (nvmebench profile --list shows them)');
    const profile = resolveProfile(name);
    if (!target) throw usageError(`no target given for profile ${profile.name}`, `name a device: nvmebench profile ${profile.name} /dev/ng0n1`);
    const { list: _list, ...cli } = opts;
    void _list;
    // Output options (--format, --wide, --quiet) come only from the command line; a profile cannot hold them.
    const raw = mergeOptions(profile.options, cli);
    const plan = buildPlan(profile.workload, target, raw);
    const prep = await prepareTargets(plan);
    if (plan.format === 'table') process.stdout.write(`profile ${profile.name}: ${profile.description}\n`);
    const { records, outcome } = await executeRun(prep, `profile-${profile.name}`);
    if (plan.format === 'table' && profile.reference && records.length) process.stdout.write(renderReference(profile, records));
    return outcome;
  });
}
