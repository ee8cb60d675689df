// Instruction pointers to symbols: kernel ones through /proc/kallsyms, user
// ones through this process's maps and the ELF symbol tables of the files
// mapped (the native addon, libc, node).
import path from 'node:path';
import { elfOffsetToAddr, elfSymbolAt, readElf, type ElfImage } from './elf.js';
import { kernelSymbolAt, type KernelSymbols } from './kallsyms.js';
import type { Mapping } from './maps.js';

export interface ResolvedSymbol {
  symbol: string;
  /** kernel.vmlinux or the kernel module; for user space, the mapped file's name. */
  module: string;
  kernel: boolean;
}

/** Kernel text lives in the upper half of the address space on x86-64 and arm64. */
const KERNEL_START = 0x8000000000000000n;

export class Symbolizer {
  private readonly images = new Map<string, ElfImage | null>();

  constructor(
    private readonly kernel: KernelSymbols,
    private readonly maps: Mapping[],
    private readonly loadElf: (file: string) => ElfImage | null = readElf,
  ) {}

  resolve(ip: bigint): ResolvedSymbol {
    if (ip >= KERNEL_START) {
      const k = kernelSymbolAt(this.kernel, ip);
      return k ? { symbol: k.name, module: k.module, kernel: true } : { symbol: '[unknown]', module: 'kernel.vmlinux', kernel: true };
    }
    const map = this.maps.find((m) => ip >= m.start && ip < m.end);
    if (!map) return { symbol: '[unknown]', module: '[unknown]', kernel: false };
    const module = map.path ? path.basename(map.path) : '[anon]';
    if (!map.path.startsWith('/')) return { symbol: '[unknown]', module, kernel: false };
    let image = this.images.get(map.path);
    if (image === undefined) {
      image = this.loadElf(map.path);
      this.images.set(map.path, image);
    }
    const addr = image ? elfOffsetToAddr(image, ip - map.start + map.offset) : undefined;
    const symbol = image && addr !== undefined ? elfSymbolAt(image, addr) : undefined;
    return { symbol: symbol ?? '[unknown]', module, kernel: false };
  }
}
