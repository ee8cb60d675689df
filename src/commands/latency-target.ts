// --latency-target p99:100us on a workload command: a mode of the run
// command, not a command of its own. Each engine's search (src/run/target-search.ts)
// runs its probes as ordinary cells, so every probe is a record in the
// table, the CSV and the JSON; the answer per engine is printed after them,
// and --plot draws the curve (the percentile against IOPS, one line per engine).
import type { RunRecord } from '../model.js';
import type { Results } from '../analysis/results.js';
import type { PreparedRun, Cell } from '../run/prepare.js';
import { runAll, type RunHooks } from '../run/scheduler.js';
import { MAX_PROBES, searchQd, searchRate, type SearchAnswer } from '../run/target-search.js';
import { buildTargetTable, type TargetAnswerRow } from '../output/target-table.js';
import { drawTable } from '../output/render.js';
import { engineSpec } from '../engines/registry.js';
import type { OutputPath } from '../export/fsutil.js';

/** How executeRun (run.ts) runs the cells and what it prints after them; absent: every cell, once per repeat. */
export interface RunMode {
  run(preps: PreparedRun[], hooks: RunHooks): Promise<RunRecord[]>;
  /** After the results table. */
  report?(results: Results): void;
  /** --plot: what to draw instead of the metric plot. */
  plot?(results: Results, out: OutputPath): Promise<void>;
  /** The most runs it may take, for the progress line. */
  runs?: number;
}

/** The cells a search covers: one per engine and block size (their QDs are what it searches). */
function searchCells(prep: PreparedRun): Cell[] {
  const seen = new Set<string>();
  return prep.cells.filter((c) => {
    const key = `${c.engine}|${c.blockSize}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One probe: the cell at this QD (and total rate) on every target, once, no warmup. */
function probeRunner(preps: PreparedRun[], index: number, hooks: RunHooks, all: RunRecord[]) {
  return async (ioDepth: number, offeredIops?: number): Promise<RunRecord | undefined> => {
    const probes = preps.map((p) => {
      const cell = searchCells(p)[index];
      const rate = offeredIops !== undefined && p.plan.rate ? { ...p.plan.rate, iops: offeredIops, total: true } : undefined;
      return { ...p, plan: { ...p.plan, repeat: 1, warmup: 0, rate }, cells: [{ ...cell, ioDepth }] };
    });
    const records = await runAll(probes, hooks);
    all.push(...records);
    return records.find((r) => r.aggregate) ?? records[0];
  };
}

export function latencyTargetMode(preps: PreparedRun[]): RunMode {
  const plan = preps[0].plan;
  const target = plan.latencyTarget!;
  const answers: Array<{ cell: Cell; answer: SearchAnswer }> = [];
  return {
    runs: searchCells(preps[0]).length * MAX_PROBES,
    async run(given: PreparedRun[], hooks: RunHooks): Promise<RunRecord[]> {
      const records: RunRecord[] = [];
      for (const [i, cell] of searchCells(given[0]).entries()) {
        if (hooks.interrupted()) break;
        const run = probeRunner(given, i, hooks, records);
        const answer = plan.rate
          ? await searchRate(run, target, target.maxQd, plan.rate.total ? plan.rate.iops : plan.rate.iops * plan.threads * Math.max(1, plan.targetPaths.length), hooks.interrupted)
          : await searchQd(run, target, hooks.interrupted, engineSpec(cell.engine).synchronous);
        answers.push({ cell, answer });
      }
      return records;
    },
    report(): void {
      const rows: TargetAnswerRow[] = answers.map(({ cell, answer }) => ({
        engine: cell.engine,
        blockSize: cell.blockSize,
        best: answer.best && { ioDepth: answer.best.ioDepth, offeredIops: answer.best.offeredIops, iops: answer.best.iops, latencyUs: answer.best.latencyUs },
        probes: answer.probes.length,
        ended: answer.ended,
      }));
      if (!rows.length) return;
      const model = buildTargetTable(rows, target.text, !!plan.rate);
      process.stdout.write(`\nlatency target ${target.text}\n${drawTable(model)}\n${model.notes.join('\n')}\n`);
    },
    async plot(results: Results, out: OutputPath): Promise<void> {
      const { writeCurvePlot } = await import('../export/plot-curve.js');
      await writeCurvePlot(results, out, { percentile: target.percentile, limitUs: target.limitUs });
    },
  };
}
