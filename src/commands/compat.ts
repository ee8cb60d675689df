// nvmebench compat: which path works on which kernel. Boots the lab once per
// kernel on the same emulated devices and runs every engine for every workload
// and NVMe command (src/compat/steps.ts), then prints one matrix: rows engine ×
// workload, a column per kernel, cells ✓, refused (with the reason) or failed.
// A failed cell ran and was failed by the kernel or device: either our version
// table should have refused it, or the kernel has a bug. Exit 1 when one did.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { runLab } from '../lab/index.js';
import { say } from '../lab/host.js';
import { describeSpec, parseKernelSpec } from '../lab/apt.js';
import { encodeSteps, parseResults } from '../lab/steps.js';
import { COMPAT_MAX_IOS, compatLabOptions, compatSteps } from '../compat/steps.js';
import { buildMatrix, failedCells, kernelColumn, type CompatCell, type CompatKernel } from '../compat/matrix.js';
import { renderCompatMarkdown, renderCompatTable } from '../compat/render.js';
import { checkOutputPath, writeExport } from '../export/fsutil.js';
import { addLabOptions, labOptionsFrom, type LabCliOptions } from './lab.js';
import type { Outcome } from './outcome.js';

interface CompatOptions extends LabCliOptions {
  kernels: string;
  ios: string;
  md?: string;
  json?: string;
}

const DRIVER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'lab', 'driver.js');

export function parseKernelList(text: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw usageError(`--kernel "${text}" names no kernel`, 'e.g. --kernel 6.1,6.12');
  for (const k of list) parseKernelSpec(k);
  if (new Set(list).size !== list.length) throw usageError(`--kernel "${text}" names a kernel twice`, 'list each kernel once');
  return list;
}

export function register(program: Command): void {
  const cmd = program
    .command('compat')
    .summary('which path works on which kernel: every engine and workload in the lab, one matrix')
    .description(
      'Boot the lab once per kernel (a 512-byte namespace and a zoned one with poll queues, a second controller on vfio-pci) ' +
        'and run every engine for every workload and NVMe command with a short --ios and --verify where it applies. ' +
        'Prints one matrix: ✓, refused (nvmebench declined, with the reason doctor gives) or failed (the kernel or the device failed it). ' +
        'Exit 1 when a cell failed: that is a bug in nvmebench\'s version table or in the kernel.',
    )
    .option('--kernel <list>', 'kernels to compare: 6.1, 6.12 or package names, comma-separated', '6.1,6.12')
    .option('--ios <n>', 'I/Os per engine and workload', '64')
    .option('--md <file>', 'also write the matrix as Markdown')
    .option('--json <file>', 'also write the matrix as JSON');
  addLabOptions(cmd, 'compat');
  cmd.action(async (o: CompatOptions & { kernel: string }): Promise<Outcome> => {
    const kernels = parseKernelList(o.kernel);
    const ios = Number(o.ios);
    if (!/^\d+$/.test(o.ios.trim()) || ios < 1 || ios > COMPAT_MAX_IOS) throw usageError(`--ios "${o.ios}" is not a count from 1 to ${COMPAT_MAX_IOS}`, 'e.g. --ios 64');
    const outs = {
      md: o.md !== undefined ? checkOutputPath(o.md, { flag: '--md' }) : undefined,
      json: o.json !== undefined ? checkOutputPath(o.json, { flag: '--json' }) : undefined,
    };
    const base = labOptionsFrom({ ...o, kernel: undefined });
    const steps = compatSteps(ios);
    const columns: Array<{ kernel: CompatKernel; cells: Map<string, CompatCell> }> = [];
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-compat-'));
    try {
      for (const k of kernels) {
        const spec = parseKernelSpec(k);
        const file = path.join(work, `${kernels.indexOf(k)}.results`);
        const opts = compatLabOptions({ ...base, kernel: spec, cwd: work, timeout: base.timeout });
        say(base.quiet, `compat: ${describeSpec(spec)}: ${steps.length - 1} runs of --engine all`);
        const t0 = Date.now();
        const exit = await runLab(opts, { exec: `${process.execPath} ${DRIVER} ${encodeSteps(steps)} ${file}` });
        if (exit !== 0) say(base.quiet, `compat: the guest driver exited ${exit}`);
        const results = parseResults(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
        const release = results.get('uname')?.stdout.trim() ?? '';
        columns.push({ kernel: { spec: k, release, seconds: Math.round((Date.now() - t0) / 100) / 10 }, cells: kernelColumn(results) });
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    const matrix = buildMatrix(columns);
    process.stdout.write(renderCompatTable(matrix));
    if (outs.md) writeExport(outs.md, renderCompatMarkdown(matrix));
    if (outs.json) writeExport(outs.json, JSON.stringify(matrix, null, 2) + '\n');
    const failed = failedCells(matrix);
    if (failed.length) {
      process.stderr.write(`nvmebench: ${failed.length} cell${failed.length > 1 ? 's' : ''} ran and failed (first: ${failed[0].engine} ${failed[0].workload} on ${failed[0].kernel}: ${failed[0].detail}): nvmebench should have refused ${failed.length > 1 ? 'them' : 'it'}, or the kernel has a bug; please report it\n`);
      return 'failed';
    }
    return 'ok';
  });
}
