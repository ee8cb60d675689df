// What a run will ask of the machine, checked before it starts: the memory its
// buffers take (against MemAvailable), the memory it pins (against
// RLIMIT_MEMLOCK), and whether --verify's per-thread slices fit the region.
// The figures follow native/core/worker.c (__worker_alloc), workload/workload_cmd.c (worker_cmd_init, the command buffers) and the engines' init.
import os from 'node:os';
import { usageError } from '../errors.js';
import { engineSpec } from '../engines/registry.js';
import type { EngineName } from '../model.js';
import type { RunPlan } from '../plan/options.js';
import { readSys } from '../system/sysfs.js';

const PAGE = 4096;
/** native/nvme/nvme_cmd.h NVME_CMD_BUF_SIZE: one page per slot for DSM ranges and Copy descriptors. */
const CMD_BUF_SIZE = 4096;
/** struct io_unit, a free-list entry and the overlap table's entries, per slot (rounded up). */
const SLOT_OVERHEAD = 160;

export interface MemoryCell {
  engine: EngineName;
  blockSize: number;
  ioDepth: number;
}

export interface RunMemory {
  /** Everything the native side allocates for the run. */
  totalBytes: number;
  /** The data buffers alone: bs (rounded to pages) × qd × threads. */
  bufferBytes: number;
  /** What the kernel pins and charges to RLIMIT_MEMLOCK (without CAP_IPC_LOCK); 0 when nothing is. */
  lockedBytes: number;
  /** What is locked: 'fixed buffers', 'VFIO DMA mappings', … */
  lockedWhat: string;
}

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;
const pow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** Kernel version as [major, minor]. */
function kernelVersion(release = os.release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** The memory one cell of a run holds while it runs. Cells run one after another. */
export function cellMemory(plan: RunPlan, cell: MemoryCell, regionSize: number, kernel = kernelVersion()): RunMemory {
  const spec = engineSpec(cell.engine);
  const depth = spec.synchronous ? 1 : cell.ioDepth;
  const stride = roundUp(cell.blockSize, PAGE);
  const buffers = stride * depth;
  const command = plan.command?.name;
  const cmdBufs = command === 'trim' || command === 'copy' ? CMD_BUF_SIZE * depth : 0;
  let worker = buffers + cmdBufs + SLOT_OVERHEAD * depth;
  let locked = 0;
  let lockedWhat = '';

  if (spec.ioUring) {
    // The rings: SQ and CQ (twice the SQ) rounded to powers of two, passthrough with 128-byte SQEs and 32-byte CQEs.
    const sq = pow2(depth);
    const big = spec.opens === 'nvme-char';
    const rings = roundUp(sq * (big ? 128 : 64), PAGE) + roundUp(2 * sq * (big ? 32 : 16) + sq * 4 + 256, PAGE);
    worker += rings;
    const fixedBufs = plan.fixedBufs && !plan.vectored;
    if (fixedBufs) {
      // io_uring charges registered buffers to RLIMIT_MEMLOCK, page by page.
      locked += buffers;
      lockedWhat = 'io_uring fixed buffers';
    }
    // The rings are charged to RLIMIT_MEMLOCK before Linux 5.12, to the memory cgroup from 5.12, and to
    // RLIMIT_MEMLOCK again since 6.14 made them io_uring memory regions (measured on 6.18: two pages at --qd 4).
    const v = kernel[0] * 1000 + kernel[1];
    if (v < 5012 || v >= 6014) {
      locked += rings;
      lockedWhat = fixedBufs ? 'io_uring fixed buffers and rings' : 'io_uring rings';
    }
  } else if (cell.engine === 'vfio') {
    // Everything the controller reaches is DMA-mapped: buffers, command buffers, PRP lists, the queue pair.
    const pages = Math.ceil(cell.blockSize / PAGE);
    let lists = 0;
    if (pages > 2) {
      const perPage = PAGE / 8;
      let left = pages - 1;
      for (lists = 1; left > perPage; lists++) left -= perPage - 1;
    }
    const prps = lists * PAGE * depth;
    const queues = roundUp((depth + 1) * 64, PAGE) + roundUp((depth + 1) * 16, PAGE);
    worker += prps + queues;
    locked = buffers + cmdBufs + prps + queues;
    lockedWhat = 'VFIO DMA mappings';
  }

  const blocks = Math.floor(regionSize / cell.blockSize);
  const writes = plan.readPercent < 100 || plan.command !== undefined;
  let run = 0;
  if (plan.verify && writes) {
    run += Math.ceil(blocks / 8); // the written-block bitmap
    if (command === 'zone-append') run += 4 * blocks; // the generation found at each block
  }
  return {
    totalBytes: worker * plan.threads + run,
    bufferBytes: buffers * plan.threads,
    lockedBytes: locked * plan.threads,
    lockedWhat,
  };
}

/** MemAvailable from /proc/meminfo in bytes; undefined when it cannot be read. */
export function memAvailable(meminfo?: string): number | undefined {
  const text = meminfo ?? readSys('/proc/meminfo');
  if (text === undefined) return undefined;
  const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** RLIMIT_MEMLOCK (soft) in bytes from /proc/self/limits; Infinity for unlimited, undefined when unknown. */
export function memlockLimit(limits?: string): number | undefined {
  const text = limits ?? readSys('/proc/self/limits');
  if (text === undefined) return undefined;
  const m = /^Max locked memory\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** CAP_IPC_LOCK (bit 14) in the effective set: the kernel then charges nothing to RLIMIT_MEMLOCK. */
export function hasIpcLock(status?: string): boolean {
  const text = status ?? readSys('/proc/self/status');
  if (text === undefined) return false;
  const m = /^CapEff:\s+([0-9a-f]+)/im.exec(text);
  return m ? (BigInt(`0x${m[1]}`) & (1n << 14n)) !== 0n : false;
}

function gib(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

function shape(cell: MemoryCell, threads: number): string {
  const depth = engineSpec(cell.engine).synchronous ? 1 : cell.ioDepth;
  return `--bs ${gib(cell.blockSize).replace(/\.0 /, ' ')} × --qd ${depth} × --threads ${threads}`;
}

export interface PreflightSystem {
  available?: number;
  memlock?: number;
  ipcLock?: boolean;
  kernel?: [number, number];
}

/** Refuse (exit 2, with the figure and the fix) a run the machine cannot hold. */
export function checkRunResources(plan: RunPlan, cells: MemoryCell[], regionSize: number, sys: PreflightSystem = {}): void {
  const available = 'available' in sys ? sys.available : memAvailable();
  const memlock = 'memlock' in sys ? sys.memlock : memlockLimit();
  const ipcLock = sys.ipcLock ?? hasIpcLock();
  const serialises = plan.verify && plan.command === undefined && plan.readPercent < 100;
  for (const cell of cells) {
    const blocks = Math.floor(regionSize / cell.blockSize);
    if (serialises && plan.threads > blocks) {
      throw usageError(
        `--verify with writes gives each of the ${plan.threads} threads its own blocks, but the region holds only ${blocks} of ${cell.blockSize} bytes`,
        'give fewer --threads, a smaller --bs or a larger --size',
      );
    }
    const mem = cellMemory(plan, cell, regionSize, sys.kernel);
    if (available !== undefined && mem.totalBytes > available) {
      throw usageError(
        `${cell.engine} needs ${gib(mem.totalBytes)} of buffers (${shape(cell, plan.threads)}), but only ${gib(available)} of memory is available`,
        'use a smaller --bs, --qd or --threads',
      );
    }
    if (!ipcLock && memlock !== undefined && mem.lockedBytes > memlock) {
      throw usageError(
        `${cell.engine} pins ${gib(mem.lockedBytes)} for ${mem.lockedWhat} (${shape(cell, plan.threads)}), over the locked-memory limit of ${gib(memlock)}`,
        `use a smaller --bs, --qd or --threads${mem.lockedWhat.includes('fixed buffers') ? ', add --no-fixedbufs' : ''}, or raise the limit (ulimit -l)`,
      );
    }
  }
}
