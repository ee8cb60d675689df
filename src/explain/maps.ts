// The executable mappings of a process, from /proc/<pid>/maps:
// "7f12a4c00000-7f12a4d95000 r-xp 00028000 fd:01 1234  /usr/lib/x86_64-linux-gnu/libc.so.6".
import fs from 'node:fs';

export interface Mapping {
  start: bigint;
  end: bigint;
  offset: bigint;
  path: string;
}

export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ \d+\s*(.*)$/.exec(line);
    if (!m || m[3][2] !== 'x') continue;
    out.push({ start: BigInt('0x' + m[1]), end: BigInt('0x' + m[2]), offset: BigInt('0x' + m[4]), path: m[5].trim() });
  }
  return out;
}

export function readMaps(file = '/proc/self/maps'): Mapping[] {
  return parseMaps(fs.readFileSync(file, 'utf8'));
}
