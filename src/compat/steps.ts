// What `nvmebench compat` runs in each lab: one lab layout (a 512-byte
// namespace and a zoned one on a kernel-driven controller with poll queues, a
// second controller on vfio-pci), and for each workload and NVMe command one
// `--engine all` run on the namespace's ng node and one on the vfio
// controller. --engine all runs what nvmebench thinks will work and says why
// it skips the rest, which is what the matrix records.
import { COMMAND_WORKLOADS, WORKLOADS, type EngineName } from '../model.js';
import { defaultLabOptions, type LabOptions } from '../lab/options.js';
import type { Step } from '../lab/steps.js';

/** The engines a compat row has: every path but nop (which needs no kernel support to speak of). */
export const COMPAT_ENGINES: readonly EngineName[] = ['psync', 'aio', 'uring', 'uring-poll', 'pt', 'pt-poll', 'ioctl', 'vfio'];

/** Every workload and every NVMe command but raw (which is whatever the user sends). */
export const COMPAT_WORKLOADS: readonly string[] = [...WORKLOADS, ...COMMAND_WORKLOADS.filter((c) => c !== 'raw')];

/**
 * Where the lab puts things (src/lab/plan.ts): controller 0 at 00:10.0 with the
 * NVM namespace 1 and the zoned namespace 2; the vfio one at 00:11.0. The
 * namespaces are named through the controller and --nsid: Linux numbers its
 * ngXnY nodes in the order it finds the namespaces, not by nsid, and 6.12
 * scans them in parallel (ng0n1 may be nsid 2).
 */
export const KERNEL_CONTROLLER = '/dev/nvme0';
export const NVM_NSID = 1;
export const ZONED_NSID = 2;
export const VFIO_BDF = '0000:00:11.0';
/** --ios at most: the read and write region (--ios blocks of 4 KiB) must fit the lab's 64 MiB namespace. */
export const COMPAT_MAX_IOS = 8192;

export function compatLabOptions(base: Partial<LabOptions> = {}): LabOptions {
  // The machine (accel, CPUs, memory, timeouts, kernel) from base; the devices are always these.
  return { ...defaultLabOptions(), ...base, controllers: 2, namespaces: 1, zoned: true, vfio: true, pollQueues: 2, lbaSize: 512, nsProps: [] };
}

/** The two targets of a row: the vfio engine's controller, every other engine's namespace. */
export type CompatTarget = 'kernel' | 'vfio';

export function targetOf(engine: EngineName): CompatTarget {
  return engine === 'vfio' ? 'vfio' : 'kernel';
}

export function stepName(target: CompatTarget, workload: string): string {
  return `${target}:${workload}`;
}

/**
 * The options of each workload: writes and the commands that write stamp with
 * --verify and the reads check what the writes before them left (a
 * sequential write of --ios blocks covers the whole region first).
 */
function workloadArgs(workload: string, ios: number): string[] {
  const region = ['--size', `${ios * 4}k`];
  switch (workload) {
    case 'write':
    case 'randwrite':
    case 'read':
    case 'randread':
    case 'rw':
    case 'randrw':
      // --ios equal to the region's blocks: the first (sequential) write covers all of it.
      return [...region, '--verify'];
    case 'write-zeroes':
    case 'copy':
      return ['--size', '2m', '--verify'];
    case 'zone-append':
      return ['--zones', '2', '--verify'];
    case 'flush':
      return [];
    default:
      return ['--size', '2m'];
  }
}

/** The zoned namespace is on the kernel's controller only: zone-append has no vfio step. */
export function hasStep(target: CompatTarget, workload: string): boolean {
  return !(target === 'vfio' && workload === 'zone-append');
}

/** The order the steps run in: a sequential write stamps the whole region before anything reads it back. */
const RUN_ORDER = ['write', 'randwrite', 'read', 'randread', 'rw', 'randrw'];

export function compatSteps(ios: number): Step[] {
  const steps: Step[] = [{ name: 'uname', sh: 'uname -r' }];
  const order = [...RUN_ORDER, ...COMPAT_WORKLOADS.filter((w) => !RUN_ORDER.includes(w))];
  for (const target of ['kernel', 'vfio'] as const) {
    for (const workload of order) {
      if (!hasStep(target, workload)) continue;
      const node = target === 'vfio' ? [VFIO_BDF] : [KERNEL_CONTROLLER, '--nsid', String(workload === 'zone-append' ? ZONED_NSID : NVM_NSID)];
      steps.push({
        name: stepName(target, workload),
        args: [workload, '--engine', 'all', '--qd', '4', '--ios', String(ios), ...workloadArgs(workload, ios), '--quiet', '--format', 'json', ...node],
      });
    }
  }
  return steps;
}
