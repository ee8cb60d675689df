// Whether the TSC may stamp latencies: x86-64, and /proc/cpuinfo says it is
// invariant (constant_tsc: one rate whatever the CPU's frequency; nonstop_tsc:
// it keeps counting in deep idle states). The native side still calibrates it
// against CLOCK_MONOTONIC and falls back when that does not hold.
import type { SysReader } from './sysfs.js';

/** Why the TSC cannot be used here, or undefined when it can (subject to calibration). */
export function tscUnusable(sys: Pick<SysReader, 'read'>, arch: string = process.arch): string | undefined {
  if (arch !== 'x64') return `the TSC is an x86-64 clock and this is ${arch}`;
  const cpuinfo = sys.read('/proc/cpuinfo');
  if (cpuinfo === undefined) return '/proc/cpuinfo cannot be read, so the TSC cannot be shown invariant';
  const flagsLine = /^flags\s*:\s*(.*)$/m.exec(cpuinfo);
  const flags = new Set((flagsLine?.[1] ?? '').split(/\s+/));
  const missing = ['constant_tsc', 'nonstop_tsc'].filter((f) => !flags.has(f));
  if (missing.length) return `the CPU flags lack ${missing.join(' and ')}: the TSC is not invariant here`;
  return undefined;
}
