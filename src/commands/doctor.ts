// nvmebench doctor [target]: what stops an I/O path here, or changes its
// results, and the fix for each. Exit code 1 when a check fails.
import os from 'node:os';
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { discover, realDeps, type Discovery } from '../inventory/discovery.js';
import { DEFAULT_WANTED, renderDoctor, runDoctor, type DoctorScope, type TargetVerdict } from '../inventory/doctor.js';
import { PATH_ENGINES, usableOn } from '../engines/registry.js';
import { ENGINE_NAMES, type EngineName } from '../model.js';
import { realSys } from '../system/sysfs.js';
import { normalizePciAddress } from '../system/pci.js';
import { probeTarget } from '../target/probe.js';
import { parseCount, parseCpuList, parseList } from '../plan/units.js';
import { formatCapacity } from './devices.js';

interface DoctorCliOptions {
  engine?: string;
  cpus?: string;
  nsid?: string;
  json?: boolean;
}

export function parseWanted(text: string): EngineName[] {
  if (text.trim() === 'all') return PATH_ENGINES.map((e) => e.name);
  const names = parseList(text, (name) => {
    if (!(ENGINE_NAMES as readonly string[]).includes(name)) throw usageError(`unknown engine '${name}'`, `choose from ${ENGINE_NAMES.join(', ')}, or all`);
    return name as EngineName;
  });
  if (!names.length) throw usageError('--engine is empty', `choose from ${ENGINE_NAMES.join(', ')}, or all`);
  return [...new Set(names)];
}

/** What part of the machine a doctor target names. */
async function scopeFor(given: string, nsid: number | undefined, d: Discovery): Promise<{ scope: DoctorScope; fileLike: boolean }> {
  const bdf = normalizePciAddress(given);
  if (bdf) {
    if (!d.controllers.some((c) => c.pciAddress === bdf)) throw usageError(`no NVMe controller at PCI address ${bdf}`, 'nvmebench devices lists them');
    return { scope: { controller: bdf }, fileLike: false };
  }
  const ctrlNode = /^\/dev\/(nvme\d+)$/.exec(given);
  if (ctrlNode && nsid === undefined) {
    if (!d.controllers.some((c) => c.name === ctrlNode[1])) throw usageError(`${given} is not an NVMe controller here`, 'nvmebench devices lists them');
    return { scope: { controller: ctrlNode[1] }, fileLike: false };
  }
  const target = await probeTarget(given, { nsid });
  if (target.nvme && d.controllers.some((c) => c.namespaces.some((ns) => ns.name === target.nvme!.name))) {
    return { scope: { namespace: target.nvme.name }, fileLike: false };
  }
  // The run's own check, engine by engine, so doctor fails where the run would refuse.
  const engines: TargetVerdict[] = PATH_ENGINES.map(({ name: engine }) => {
    const v = usableOn(engine, target, { buffered: false });
    return v.usable ? { engine, usable: true } : { engine, usable: false, reason: v.reason, fix: v.fix };
  });
  return { scope: { other: { subject: given, blockName: target.blockName, kind: target.kind === 'file' ? 'file' : 'block', engines } }, fileLike: true };
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check what stops an I/O path here or changes its results, with the fix for each (exit code 1 when a check fails)')
    .argument('[target]', 'a namespace (/dev/ng0n1, /dev/nvme0n1), a controller (/dev/nvme0, a PCI address), or a file; default: the system and every NVMe namespace')
    .option('-e, --engine <list>', `the engines you mean to run: a check that stops one fails (default: ${DEFAULT_WANTED.join(', ')})`)
    .option('--cpus <list>', 'the CPUs you will pin to (checks their governor and NUMA node), or auto (the runs\' --cpus auto)')
    .option('--nsid <n>', 'with a controller node: the namespace to check')
    .option('--json', 'machine-readable output')
    .action(async (given: string | undefined, opts: DoctorCliOptions) => {
      const cpusAuto = opts.cpus?.trim() === 'auto';
      const cpus = opts.cpus && !cpusAuto ? parseCpuList(opts.cpus) : [];
      const ncpu = os.cpus().length;
      for (const cpu of cpus) if (cpu >= ncpu) throw usageError(`--cpus names CPU ${cpu}, but this machine has CPUs 0-${ncpu - 1}`, `pick CPUs from 0 to ${ncpu - 1}`);
      const nsid = opts.nsid !== undefined ? parseCount(opts.nsid, '--nsid', 1, 0xfffffffe) : undefined;
      const d = discover(await realDeps());
      const { scope, fileLike } = given ? await scopeFor(given, nsid, d) : { scope: {}, fileLike: false };
      const wanted = opts.engine ? parseWanted(opts.engine) : fileLike ? (['psync', 'aio', 'uring'] as EngineName[]) : DEFAULT_WANTED;
      const env = { sys: realSys, kernelRelease: os.release(), uid: process.getuid?.() ?? 0, gids: process.getgroups?.() ?? [] };
      const report = runDoctor(env, d, { wanted, cpus, cpusAuto }, scope);
      const outcome = report.counts.fail ? 'failed' : 'ok';
      if (opts.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return outcome;
      }
      const describe = (subject: string): string => {
        if (subject === 'system') return `system: Linux ${env.kernelRelease}, ${ncpu} CPUs${env.uid === 0 ? ', root' : `, uid ${env.uid}`}`;
        const ctrl = d.controllers.find((c) => (c.name ?? c.pciAddress) === subject);
        if (ctrl) return `${subject}: ${[ctrl.model || (ctrl.pciId ? `PCI ${ctrl.pciId}` : ''), ctrl.serial && `serial ${ctrl.serial}`, ctrl.name && ctrl.pciAddress, `driver ${ctrl.driver || 'none'}`].filter(Boolean).join(', ')}`;
        for (const c of d.controllers) {
          const ns = c.namespaces.find((n) => n.name === subject);
          if (ns) return `${subject}: ${[ns.charPath, ns.blockPath].filter(Boolean).join(', ')}, ${formatCapacity(ns.capacityBytes)}, ${ns.lbaSize || '?'}-byte blocks`;
        }
        return subject;
      };
      process.stdout.write(renderDoctor(report, describe));
      return outcome;
    });
}
