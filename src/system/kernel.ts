// The running kernel: its version, whether it lets us use io_uring, and
// whether it is the lab's guest.
import os from 'node:os';
import { realSys, type SysReader } from './sysfs.js';

/** [major, minor] */
export type KernelVersion = [number, number];

/** 5.15.0-91-generic → [5, 15]; undefined when the release starts with no version. */
export function parseKernelVersion(release: string): KernelVersion | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function versionAtLeast(v: KernelVersion, since: KernelVersion): boolean {
  return v[0] > since[0] || (v[0] === since[0] && v[1] >= since[1]);
}

/** [major, minor] of the running kernel (or of release); [0, 0] when it names none. */
export function kernelVersion(release = os.release()): KernelVersion {
  return parseKernelVersion(release) ?? [0, 0];
}

export function kernelAtLeast(major: number, minor: number, release?: string): boolean {
  return versionAtLeast(kernelVersion(release), [major, minor]);
}

/** kernel.io_uring_disabled: 0 on, 1 for root and io_uring_group only, 2 off; undefined on a kernel without the sysctl. */
export function ioUringSysctl(sys: SysReader = realSys): number | undefined {
  const value = sys.read('/proc/sys/kernel/io_uring_disabled');
  return value === undefined ? undefined : Number(value) || 0;
}

/** kernel.io_uring_disabled, 0 when the sysctl is missing. */
export function ioUringDisabled(sys: SysReader = realSys): number {
  return ioUringSysctl(sys) ?? 0;
}

/** Does io_uring_disabled keep this process off io_uring? (1 lets root through; doctor also knows io_uring_group.) */
export function ioUringStopped(disabled: number, isRoot: boolean): boolean {
  return disabled === 2 || (disabled === 1 && !isRoot);
}

/** The environment variable the lab sets (to 1) for every command it runs in its guest. */
export const LAB_MARKER = 'NVMEBENCH_LAB';

/** Are we the lab's guest, where every NVMe device is QEMU's? */
export function insideLab(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[LAB_MARKER] === '1';
}
