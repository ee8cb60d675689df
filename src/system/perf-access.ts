// Can this process sample the kernel for --explain? perf_event_open on a
// thread with kernel IPs needs kernel.perf_event_paranoid <= 1 or
// CAP_PERFMON (CAP_SYS_ADMIN before 5.8); reading kernel addresses from
// /proc/kallsyms needs kernel.kptr_restrict 0 (with the same paranoid
// setting) or 1 with CAP_SYSLOG, and never with 2 (kallsyms_show_value()).
import type { SysReader } from './sysfs.js';

const CAP_SYS_ADMIN = 21n;
const CAP_SYSLOG = 34n;
const CAP_PERFMON = 38n;

export type PerfAccess = { ok: true; paranoid: number; kptrRestrict: number } | { ok: false; message: string; fix: string };

/** CapEff from /proc/self/status as a bit mask; 0 when it cannot be read. */
export function effectiveCaps(sys: Pick<SysReader, 'read'>): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(sys.read('/proc/self/status') ?? '');
  return m ? BigInt('0x' + m[1]) : 0n;
}

export function perfAccess(sys: Pick<SysReader, 'read'>, caps = effectiveCaps(sys)): PerfAccess {
  const has = (cap: bigint): boolean => ((caps >> cap) & 1n) === 1n;
  const paranoidText = sys.read('/proc/sys/kernel/perf_event_paranoid');
  if (paranoidText === undefined) {
    return { ok: false, message: '--explain: this kernel has no perf events (no /proc/sys/kernel/perf_event_paranoid)', fix: 'use a kernel built with CONFIG_PERF_EVENTS, or run without --explain' };
  }
  const paranoid = Number(paranoidText);
  const kptrRestrict = Number(sys.read('/proc/sys/kernel/kptr_restrict') ?? '0');
  if (paranoid > 1 && !has(CAP_PERFMON) && !has(CAP_SYS_ADMIN)) {
    return { ok: false, message: `--explain: kernel.perf_event_paranoid is ${paranoid}, and sampling kernel code needs 1 or less (or CAP_PERFMON)`, fix: 'run sudo sysctl kernel.perf_event_paranoid=1, or run nvmebench as root' };
  }
  const addressesShown = kptrRestrict === 0 ? paranoid <= 1 || has(CAP_SYSLOG) : kptrRestrict === 1 && has(CAP_SYSLOG);
  if (!addressesShown) {
    return { ok: false, message: `--explain: kernel.kptr_restrict is ${kptrRestrict}, which hides kernel addresses in /proc/kallsyms from this process`, fix: kptrRestrict >= 2 ? 'run sudo sysctl kernel.kptr_restrict=1 and run nvmebench as root' : 'run sudo sysctl kernel.kptr_restrict=0, or run nvmebench as root' };
  }
  return { ok: true, paranoid, kptrRestrict };
}
