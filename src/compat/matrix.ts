// The compatibility matrix: for each engine and workload, what each kernel
// did with it. A cell is ok (it ran, no errors), refused (nvmebench declined
// before running, with the reason doctor would give) or failed (it ran and
// the kernel or the device failed it: either a bug in our version table or
// in the kernel). Built from the lab driver's step results, once per kernel.
import type { EngineName, RunRecord } from '../model.js';
import type { StepResult } from '../lab/steps.js';
import { COMPAT_ENGINES, COMPAT_WORKLOADS, hasStep, stepName, targetOf } from './steps.js';

export type CellState = 'ok' | 'refused' | 'failed' | 'n/a';

export interface CompatCell {
  state: CellState;
  /** The refusal's reason, the failure's error; empty when ok. */
  detail: string;
}

export interface CompatKernel {
  /** As asked for: 6.1, 6.12 or a package name. */
  spec: string;
  /** uname -r in the guest. */
  release: string;
  /** Seconds the lab took, boot included. */
  seconds: number;
}

export interface CompatRow {
  engine: EngineName;
  workload: string;
  /** By kernel spec. */
  cells: Record<string, CompatCell>;
}

export interface CompatMatrix {
  format: 'nvmebench-compat';
  version: 1;
  kernels: CompatKernel[];
  rows: CompatRow[];
}

const SKIP = /^nvmebench: skipping ([a-z-]+): (.*)$/;

/** The records a step printed (its stdout is --format json), or none. */
function stepRecords(r: StepResult): RunRecord[] {
  const text = r.stdout.trim();
  if (!text.startsWith('{')) return [];
  try {
    return (JSON.parse(text) as { records?: RunRecord[] }).records ?? [];
  } catch {
    return [];
  }
}

function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() && !SKIP.test(l.trim())) ?? '').replace(/^nvmebench: /, '').trim();
}

/** What one step says about one engine. */
export function cellFor(engine: EngineName, step: StepResult | undefined): CompatCell {
  if (!step) return { state: 'failed', detail: 'not run: the guest stopped before this step' };
  const recs = stepRecords(step).filter((r) => r.engine === engine);
  if (recs.length) {
    const bad = recs.find((r) => r.status !== 'ok' || r.errors > 0);
    if (!bad) return { state: 'ok', detail: '' };
    return { state: 'failed', detail: bad.errorMessage || `${bad.errors} I/O errors` };
  }
  for (const line of step.stderr.split('\n')) {
    const m = SKIP.exec(line.trim());
    if (m && m[1] === engine) return { state: 'refused', detail: m[2] };
  }
  // The whole run was refused before it started (bad input for every engine): exit 2 and its message.
  if (step.code === 2) return { state: 'refused', detail: firstLine(step.stderr) || 'refused' };
  return { state: 'failed', detail: `no result for ${engine} (exit ${step.code}${firstLine(step.stderr) ? `: ${firstLine(step.stderr)}` : ''})` };
}

/** One kernel's column from its lab's step results. */
export function kernelColumn(results: Map<string, StepResult>): Map<string, CompatCell> {
  const out = new Map<string, CompatCell>();
  for (const workload of COMPAT_WORKLOADS) {
    for (const engine of COMPAT_ENGINES) {
      const target = targetOf(engine);
      const cell = hasStep(target, workload)
        ? cellFor(engine, results.get(stepName(target, workload)))
        : { state: 'n/a' as const, detail: 'the lab has no zoned namespace on its vfio controller' };
      out.set(`${engine} ${workload}`, cell);
    }
  }
  return out;
}

export function buildMatrix(columns: Array<{ kernel: CompatKernel; cells: Map<string, CompatCell> }>): CompatMatrix {
  const rows: CompatRow[] = [];
  for (const engine of COMPAT_ENGINES) {
    for (const workload of COMPAT_WORKLOADS) {
      const cells: Record<string, CompatCell> = {};
      for (const c of columns) cells[c.kernel.spec] = c.cells.get(`${engine} ${workload}`) ?? { state: 'failed', detail: 'missing' };
      rows.push({ engine, workload, cells });
    }
  }
  return { format: 'nvmebench-compat', version: 1, kernels: columns.map((c) => c.kernel), rows };
}

/** The cells that ran and failed: each one a bug in our version table or in the kernel. */
export function failedCells(m: CompatMatrix): Array<{ engine: EngineName; workload: string; kernel: string; detail: string }> {
  return m.rows.flatMap((r) =>
    Object.entries(r.cells)
      .filter(([, c]) => c.state === 'failed')
      .map(([kernel, c]) => ({ engine: r.engine, workload: r.workload, kernel, detail: c.detail })),
  );
}
