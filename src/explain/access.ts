// --explain's checks before a run: permission to sample the kernel and read
// its addresses (system/perf-access.ts), as a usage error naming the sysctl.
import { usageError } from '../errors.js';
import { perfAccess } from '../system/perf-access.js';
import { realSys, type SysReader } from '../system/sysfs.js';

export function checkExplainAccess(sys: Pick<SysReader, 'read'> = realSys): void {
  const access = perfAccess(sys);
  if (!access.ok) throw usageError(access.message, access.fix);
}
