// The function symbols of an ELF64 little-endian file (.symtab, else
// .dynsym) and its PT_LOAD segments, read with positioned reads: the node
// binary is too large to load whole. No binutils needed.
import fs from 'node:fs';

export interface ElfSymbol {
  /** Virtual address as linked. */
  addr: bigint;
  size: bigint;
  name: string;
}

export interface ElfSegment {
  vaddr: bigint;
  offset: bigint;
  filesz: bigint;
}

export interface ElfImage {
  /** Sorted by address. */
  symbols: ElfSymbol[];
  /** Executable PT_LOAD segments: file offset → virtual address. */
  segments: ElfSegment[];
}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const PT_LOAD = 1;
const PF_X = 1;

function readAt(fd: number, offset: bigint, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const got = fs.readSync(fd, buf, 0, length, offset);
  return got === length ? buf : buf.subarray(0, got);
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

/** Parse an ELF image from a buffer or a path; null for anything that is not ELF64 LE. */
export function readElf(file: string | Buffer): ElfImage | null {
  if (Buffer.isBuffer(file)) return parseElf((off, len) => file.subarray(Number(off), Number(off) + len));
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    return parseElf((off, len) => readAt(fd, off, len));
  } finally {
    fs.closeSync(fd);
  }
}

function parseElf(read: (offset: bigint, length: number) => Buffer): ElfImage | null {
  const eh = read(0n, 64);
  if (eh.length < 64 || eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2 || eh[5] !== 1) return null;
  const phoff = eh.readBigUInt64LE(32);
  const shoff = eh.readBigUInt64LE(40);
  const phentsize = eh.readUInt16LE(54);
  const phnum = eh.readUInt16LE(56);
  const shentsize = eh.readUInt16LE(58);
  const shnum = eh.readUInt16LE(60);
  const shstrndx = eh.readUInt16LE(62);
  const segments: ElfSegment[] = [];
  const ph = read(phoff, phentsize * phnum);
  for (let i = 0; i < phnum && (i + 1) * phentsize <= ph.length; i++) {
    const p = ph.subarray(i * phentsize);
    if (p.readUInt32LE(0) !== PT_LOAD || !(p.readUInt32LE(4) & PF_X)) continue;
    segments.push({ offset: p.readBigUInt64LE(8), vaddr: p.readBigUInt64LE(16), filesz: p.readBigUInt64LE(32) });
  }
  const sh = read(shoff, shentsize * shnum);
  const sections = Array.from({ length: Math.floor(sh.length / shentsize) }, (_, i) => {
    const s = sh.subarray(i * shentsize);
    return { name: s.readUInt32LE(0), type: s.readUInt32LE(4), addr: s.readBigUInt64LE(16), offset: s.readBigUInt64LE(24), size: s.readBigUInt64LE(32), link: s.readUInt32LE(40), entsize: s.readBigUInt64LE(56) };
  });
  // PLT stubs have no symbols: without these, calls through them land in _init, the symbol before.
  const names = sections[shstrndx] ? read(sections[shstrndx].offset, Number(sections[shstrndx].size)) : Buffer.alloc(0);
  // .symtab has the local (static) functions too; stripped files keep only .dynsym.
  const table = sections.find((s) => s.type === SHT_SYMTAB) ?? sections.find((s) => s.type === SHT_DYNSYM);
  const symbols: ElfSymbol[] = [];
  if (table && table.entsize >= 24n && sections[table.link]) {
    const strtab = read(sections[table.link].offset, Number(sections[table.link].size));
    const syms = read(table.offset, Number(table.size));
    const ent = Number(table.entsize);
    for (let at = 0; at + 24 <= syms.length; at += ent) {
      if ((syms[at + 4] & 0xf) !== STT_FUNC) continue;
      const addr = syms.readBigUInt64LE(at + 8);
      if (addr === 0n) continue; // undefined (imported)
      symbols.push({ addr, size: syms.readBigUInt64LE(at + 16), name: cString(strtab, syms.readUInt32LE(at)) });
    }
  }
  for (const sec of sections) {
    if (/^\.plt(\.got|\.sec)?$/.test(cString(names, sec.name)) && sec.addr) symbols.push({ addr: sec.addr, size: sec.size, name: '[plt]' });
  }
  symbols.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  return { symbols, segments };
}

/** The symbol covering a linked address: the last one at or below it, within its size when it has one. */
export function elfSymbolAt(image: ElfImage, addr: bigint): string | undefined {
  const syms = image.symbols;
  let lo = 0;
  let hi = syms.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (syms[mid].addr <= addr) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return undefined;
  const s = syms[found];
  return s.size === 0n || addr < s.addr + s.size ? s.name : undefined;
}

/** A file offset inside an executable segment, as the address the symbols use. */
export function elfOffsetToAddr(image: ElfImage, fileOffset: bigint): bigint | undefined {
  const seg = image.segments.find((s) => fileOffset >= s.offset && fileOffset < s.offset + s.filesz);
  return seg ? fileOffset - seg.offset + seg.vaddr : undefined;
}
