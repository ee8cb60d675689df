// Everything discovery and doctor read from /sys, /proc and /dev goes through
// a SysReader, so tests can hand them a made-up machine.
import fs from 'node:fs';
import path from 'node:path';

export interface SysReader {
  /** A file's text, trimmed; undefined when it cannot be read. */
  read(file: string): string | undefined;
  /** Entry names in a directory, sorted; [] when it is missing. */
  list(dir: string): string[];
  /** Where a symlink (or a path through symlinks) leads; undefined when it does not exist. */
  resolve(file: string): string | undefined;
  exists(file: string): boolean;
  /** Permission bits and owner of a device node or file. */
  stat(file: string): { mode: number; uid: number; gid: number } | undefined;
  /** Can this process open the file for reading (and writing)? */
  canAccess(file: string, write: boolean): boolean;
}

/** A sysfs or procfs file's text, trimmed; undefined when it cannot be read. */
export function readSys(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * A kernel cpulist file (/sys/devices/system/cpu/online, a NUMA node's
 * cpulist: "0-3,8") as CPU numbers; [] when it is missing or not a cpulist.
 * User input (--cpus) goes through plan/units.ts, which names what is wrong.
 */
export function readCpuList(sys: Pick<SysReader, 'read'>, file: string): number[] {
  return kernelCpuList(sys.read(file));
}

/**
 * The CPUs this process may run on, from Cpus_allowed_list in /proc/self/status
 * (what taskset and cgroup cpusets leave it); cpus is [] when it cannot be read.
 */
export function readAllowedCpus(sys: Pick<SysReader, 'read'>): { cpus: number[]; list: string } {
  const line = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(sys.read('/proc/self/status') ?? '');
  return line ? { cpus: kernelCpuList(line[1]), list: line[1] } : { cpus: [], list: '' };
}

function kernelCpuList(text: string | undefined): number[] {
  if (!text) return [];
  const cpus: number[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!range) return [];
    const lo = Number(range[1]);
    const hi = range[2] === undefined ? lo : Number(range[2]);
    // Linux numbers at most 8192 CPUs (NR_CPUS); anything past that is not a cpulist.
    if (hi < lo || hi > 8191) return [];
    for (let cpu = lo; cpu <= hi; cpu++) cpus.push(cpu);
  }
  return cpus;
}

export const realSys: SysReader = {
  read: readSys,
  list(dir) {
    try {
      return fs.readdirSync(dir).sort(naturalCompare);
    } catch {
      return [];
    }
  },
  resolve(file) {
    try {
      return fs.realpathSync(file);
    } catch {
      return undefined;
    }
  },
  exists(file) {
    return fs.existsSync(file);
  },
  stat(file) {
    try {
      const s = fs.statSync(file);
      return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
    } catch {
      return undefined;
    }
  },
  canAccess(file, write) {
    try {
      fs.accessSync(file, write ? fs.constants.R_OK | fs.constants.W_OK : fs.constants.R_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/** nvme2 before nvme10. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export interface MemoryMachine {
  /** Path → file contents. Directories exist implicitly as parents of files. */
  files: Record<string, string>;
  /** Path → target of a symlink (absolute). */
  links?: Record<string, string>;
  /** Path → permission bits, for stat (default 0o600, owned by root). */
  modes?: Record<string, number>;
  /** Paths this process may open; everything else is denied unless root is set. */
  accessible?: string[];
  root?: boolean;
}

/** A SysReader over a made-up machine, for tests. */
export function memorySys(machine: MemoryMachine): SysReader {
  const links = machine.links ?? {};
  // Follow links on any prefix of a path, like the kernel would.
  const follow = (p: string): string => {
    let cur = path.posix.normalize(p);
    for (let hops = 0; hops < 32; hops++) {
      const parts = cur.split('/');
      let changed = false;
      for (let i = parts.length; i > 1; i--) {
        const prefix = parts.slice(0, i).join('/');
        const to = links[prefix];
        if (to !== undefined) {
          const target = to.startsWith('/') ? to : path.posix.join(path.posix.dirname(prefix), to);
          cur = path.posix.normalize([target, ...parts.slice(i)].join('/'));
          changed = true;
          break;
        }
      }
      if (!changed) return cur;
    }
    return cur;
  };
  const keys = () => [...Object.keys(machine.files), ...Object.keys(links), ...Object.keys(machine.modes ?? {})];
  const isDir = (p: string) => keys().some((k) => follow(k).startsWith(p + '/') || k.startsWith(p + '/'));
  const exists = (p: string) => {
    const real = follow(p);
    return real in machine.files || (machine.modes ?? {})[real] !== undefined || isDir(real) || Object.keys(links).includes(p);
  };
  return {
    read(file) {
      const v = machine.files[follow(file)];
      return v === undefined ? undefined : v.trim();
    },
    list(dir) {
      const real = follow(dir);
      const names = new Set<string>();
      for (const k of keys()) {
        for (const candidate of [k, follow(k)]) {
          if (candidate.startsWith(real + '/')) names.add(candidate.slice(real.length + 1).split('/')[0]);
        }
      }
      return [...names].sort(naturalCompare);
    },
    resolve(file) {
      return exists(file) ? follow(file) : undefined;
    },
    exists,
    stat(file) {
      if (!exists(file)) return undefined;
      return { mode: (machine.modes ?? {})[follow(file)] ?? 0o600, uid: 0, gid: 0 };
    },
    canAccess(file, _write) {
      return !!machine.root || (machine.accessible ?? []).includes(file);
    },
  };
}

/** major:minor of a device node, as /sys/dev/{block,char}/ names it. */
export function devNumbers(rdev: number): string {
  // glibc's makedev layout, which node reports in rdev. BigInt: JS's >> works
  // on 32 bits and takes shift counts mod 32, so `rdev >> 32` would be rdev.
  const dev = BigInt(rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return `${major}:${minor}`;
}
