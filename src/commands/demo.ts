// nvmebench demo: the main job without hardware. Boots the lab with its
// defaults (one controller, one 512-byte namespace, two poll queues) plus an
// IOMMU, and compares every engine on it, vfio included.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { runLab } from '../lab/index.js';
import { say } from '../lab/host.js';
import { addLabOptions, labOptionsFrom, type LabCliOptions } from './lab.js';

interface DemoOptions extends LabCliOptions {
  csv?: string;
  json?: string;
  md?: string;
  runtime: string;
  qd: string;
}

export const DEMO_TARGET = '/dev/ng0n1';

export function demoArgv(o: { runtime: string; qd: string; csv?: string; json?: string; md?: string }): string[] {
  // --vfio-auto-bind: the run hands the controller to vfio-pci for the vfio
  // engine and back to nvme after, so one controller shows all eight paths.
  const argv = ['randread', '--engine', 'all', '--vfio-auto-bind', '--qd', o.qd, '--runtime', o.runtime, DEMO_TARGET];
  // A chart next to the CSV: the same name, .svg.
  if (o.csv) argv.push('--csv', o.csv, '--plot', o.csv.replace(/\.csv$/i, '') + '.svg');
  if (o.json) argv.push('--json', o.json);
  if (o.md) argv.push('--md', o.md);
  return argv;
}

function within(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : parent + '/');
}

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .summary('compare every engine without NVMe hardware (boots the lab)')
    .description(
      'Boot the lab (one emulated controller with an IOMMU, one 512-byte namespace, two poll queues) and compare every engine ' +
        `inside it with: nvmebench randread --engine all --vfio-auto-bind --qd 1,16 --runtime 2 ${DEMO_TARGET}. ` +
        'Numbers come from an emulated device under QEMU: they show every path working and compare them ' +
        'relative to each other, not hardware speed.',
    )
    .option('--csv <file>', 'also write the results as CSV (relative paths land in the current directory)')
    .option('--json <file>', 'also write the results as JSON')
    .option('--md <file>', 'also write the results as a Markdown table')
    .option('--runtime <seconds>', 'seconds per measurement', '2')
    .option('--qd <list>', 'queue depths to compare', '1,16');
  addLabOptions(cmd, 'machine');
  cmd.action(async (o: DemoOptions) => {
    if (!/^\d+(\.\d+)?s?$/.test(o.runtime.trim())) throw usageError(`--runtime "${o.runtime}" is not a number of seconds`);
    if (!/^\d+(,\d+)*$/.test(o.qd.replace(/\s/g, ''))) throw usageError(`--qd "${o.qd}" is not a list of queue depths`, 'e.g. 1,16');
    const opts = labOptionsFrom(o);
    opts.iommu = true; // for the vfio engine
    // The cwd is shared writable; an output outside it needs its own share.
    const shares = new Set(opts.shares.map((s) => path.resolve(s)));
    for (const file of [o.csv, o.json, o.md]) {
      if (!file) continue;
      const abs = path.resolve(opts.cwd, file);
      const dir = path.dirname(abs);
      if (within(abs, path.resolve(opts.cwd)) && path.resolve(opts.cwd) !== '/') continue;
      fs.mkdirSync(dir, { recursive: true });
      shares.add(dir);
    }
    opts.shares = [...shares];
    const argv = demoArgv({ ...o, qd: o.qd.replace(/\s/g, '') });
    say(opts.quiet, 'demo: every engine on one emulated NVMe namespace; figures are from QEMU, not hardware');
    return { guestExit: await runLab(opts, { argv }) };
  });
}
