// Kernel text symbols from /proc/kallsyms: "ffffffff81000000 T _stext" and
// "ffffffffc0a01000 t nvme_poll	[nvme]". Hidden addresses (kptr_restrict)
// read as zeros; kallsymsHidden() says so.
import fs from 'node:fs';

export interface KernelSymbols {
  /** Sorted by address. */
  addrs: bigint[];
  names: string[];
  /** 'kernel.vmlinux' for the core image, else the module's name. */
  modules: string[];
}

export function parseKallsyms(text: string): KernelSymbols {
  const rows: Array<[bigint, string, string]> = [];
  for (const line of text.split('\n')) {
    // address, type, name, optional [module]
    const m = /^([0-9a-f]+) ([tTwW]) (\S+)(?:\s+\[(\S+)\])?/.exec(line);
    if (!m) continue;
    rows.push([BigInt('0x' + m[1]), m[3], m[4] ?? 'kernel.vmlinux']);
  }
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { addrs: rows.map((r) => r[0]), names: rows.map((r) => r[1]), modules: rows.map((r) => r[2]) };
}

/** True when every text symbol reads as address 0: kptr_restrict hides them from this user. */
export function kallsymsHidden(syms: KernelSymbols): boolean {
  return syms.addrs.length === 0 || syms.addrs[syms.addrs.length - 1] === 0n;
}

export function kernelSymbolAt(syms: KernelSymbols, addr: bigint): { name: string; module: string } | undefined {
  let lo = 0;
  let hi = syms.addrs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (syms.addrs[mid] <= addr) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? undefined : { name: syms.names[found], module: syms.modules[found] };
}

let cached: KernelSymbols | undefined;

/** /proc/kallsyms, read once per process (modules do not come and go during a run). */
export function readKallsyms(file = '/proc/kallsyms'): KernelSymbols {
  if (file !== '/proc/kallsyms') return parseKallsyms(fs.readFileSync(file, 'utf8'));
  cached ??= parseKallsyms(fs.readFileSync(file, 'utf8'));
  return cached;
}
