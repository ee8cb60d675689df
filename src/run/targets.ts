// Several targets in one run: each is prepared like a lone target (probe,
// engines, region, write safety, claim), then checked against the others, so
// one refused target refuses the run, naming it, before anything has run.
import fs from 'node:fs';
import path from 'node:path';
import { BenchError, usageError } from '../errors.js';
import type { RunPlan } from '../plan/options.js';
import { formatCpuList } from '../inventory/doctor-checks.js';
import type { Target } from '../target/target.js';
import { assignCpus } from './cpus.js';
import { prepareRun, type PreparedRun } from './prepare.js';

/** What makes two targets one: the same controller (PCI), file or node, or namespace. */
export function identity(target: Target): string[] {
  // A PCI address names the controller; its namespace info has no kernel controller name to compare.
  if (target.pci) return [`pci:${target.pci.address}`];
  const ids: string[] = [];
  try {
    const st = fs.statSync(target.path);
    ids.push(st.isBlockDevice() || st.isCharacterDevice() ? `rdev:${st.rdev}` : `ino:${st.dev}:${st.ino}`);
  } catch {
    // nothing to stat: the other facts decide
  }
  if (target.nvme?.controller) ids.push(`ns:${target.nvme.controller}/${target.nvme.nsid}`);
  return ids;
}

const KIND_WORDS: Record<Target['kind'], string> = { file: 'a file', block: 'a block device', 'nvme-char': 'an NVMe char node', pci: 'a PCI controller', none: 'no target' };

/** At most this many targets in one run: each has its own run thread and workers (native/addon/addon.c). */
export const MAX_TARGETS = 64;

/** The same target twice, or targets of different kinds (a file beside an NVMe node): refused. */
function checkTogether(preps: PreparedRun[]): void {
  const seen = new Map<string, string>();
  const first = preps[0];
  for (const prep of preps) {
    const given = prep.plan.targetPath;
    for (const id of identity(prep.target)) {
      const before = seen.get(id);
      if (before !== undefined) throw usageError(`${given} is the same target as ${before}`, 'name each target once (two workers on one target: --threads 2)');
      seen.set(id, given);
    }
    if (prep.target.kind !== first.target.kind) {
      throw usageError(
        `${given} is ${KIND_WORDS[prep.target.kind]} but ${first.plan.targetPath} is ${KIND_WORDS[first.target.kind]}: the targets of one run must be of one kind, so every engine runs on every one`,
        'run files and devices in separate runs',
      );
    }
    const want = first.cells.map((c) => `${c.engine} bs=${c.blockSize} qd=${c.ioDepth}`);
    const got = prep.cells.map((c) => `${c.engine} bs=${c.blockSize} qd=${c.ioDepth}`);
    const missing = want.find((w) => !got.includes(w)) ?? got.find((g) => !want.includes(g));
    if (missing) {
      const engine = missing.split(' ')[0];
      throw usageError(`${engine} cannot run on both ${first.plan.targetPath} and ${given}`, `pick engines every target supports (--engine), or run the targets separately`);
    }
  }
}

/**
 * The targets of a run, prepared. One target: exactly prepareRun. Several: one
 * PreparedRun each, carrying its index and its CPUs; the first refusal releases
 * whatever the others hold and names its target.
 */
export async function prepareTargets(plan: RunPlan, extra: { vfioAutoBind?: boolean } = {}): Promise<PreparedRun[]> {
  const paths = plan.targetPaths.length ? plan.targetPaths : [plan.targetPath];
  if (paths.length > MAX_TARGETS) throw usageError(`${paths.length} targets in one run: at most ${MAX_TARGETS}`, `split them over several runs (nvmebench merge combines their results)`);
  if (paths.length > 1 && extra.vfioAutoBind) throw usageError('--vfio-auto-bind takes one target', 'bind the controllers to vfio-pci first (nvmebench vfio bind ADDR), then run them together');
  const preps: PreparedRun[] = [];
  try {
    for (const [index, given] of paths.entries()) {
      if (paths.indexOf(given) !== index || paths.findIndex((p) => path.resolve(p) === path.resolve(given)) !== index) {
        throw usageError(`${given} is given twice`, 'name each target once (two workers on one target: --threads 2)');
      }
      try {
        preps.push(await prepareRun({ ...plan, targetPath: given, targetPaths: [given] }, extra));
      } catch (err) {
        if (err instanceof BenchError && paths.length > 1 && !err.message.includes(given)) throw new BenchError(err.kind, `target ${given}: ${err.message}`, err.fix);
        throw err;
      }
    }
    if (preps.length > 1) checkTogether(preps);
  } catch (err) {
    for (const prep of preps) prep.claim?.release();
    throw err;
  }
  // nop alone opens no target, however many were given: one run.
  if (preps[0].target.kind === 'none') return preps.slice(0, 1);
  const choices = assignCpus(preps.map((p) => p.target), plan.threads, plan.cpus, plan.cpusAuto);
  preps.forEach((prep, index) => {
    prep.cpus = choices[index].cpus;
    if (preps.length > 1) prep.targetIndex = index;
  });
  // Said even with --quiet (which silences only the live line): the pinning is part of what was measured.
  if (plan.cpusAuto) {
    const words = preps.map((p, i) => `${p.plan.targetPath} (${choices[i].node >= 0 ? `NUMA node ${choices[i].node}` : 'no NUMA node'}): CPUs ${formatCpuList(choices[i].cpus) || 'none found, not pinned'}`);
    process.stderr.write(`nvmebench: --cpus auto: ${words.join('; ')}\n`);
  }
  return preps;
}
