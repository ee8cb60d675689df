// The NVMe driver's side of sysfs: its node names and which namespaces a
// controller has. Reads go through a SysReader so tests can fake a machine.
import type { SysReader } from './sysfs.js';

/** The namespaces of one controller as [instance, nsid] pairs, from its sysfs children and, with multipath, its subsystem's. */
export function controllerNamespaceNames(sys: SysReader, controller: string): Array<{ instance: number; nsid: number }> {
  const dirs = [`/sys/class/nvme/${controller}`];
  for (const subsys of sys.list('/sys/class/nvme-subsystem')) {
    if (sys.list(`/sys/class/nvme-subsystem/${subsys}`).includes(controller)) dirs.push(`/sys/class/nvme-subsystem/${subsys}`);
  }
  const found = new Map<string, { instance: number; nsid: number }>();
  for (const dir of dirs) {
    for (const entry of sys.list(dir)) {
      const m = /^(?:nvme|ng)(\d+)n(\d+)$/.exec(entry);
      if (m) found.set(`${m[1]}n${m[2]}`, { instance: Number(m[1]), nsid: Number(m[2]) });
    }
  }
  return [...found.values()].sort((a, b) => a.instance - b.instance || a.nsid - b.nsid);
}
