// A tiny writer for the "newc" cpio format, the one the kernel unpacks as an
// initramfs. Doing it here keeps cpio(1) off the list of things to install and
// makes the archive byte-for-byte reproducible (fixed mtimes, owners, inodes).

export interface CpioEntry {
  /** Path inside the archive, without a leading slash: "bin/busybox". */
  path: string;
  kind: 'dir' | 'file' | 'symlink';
  /** Permission bits (0o755 etc.); ignored for symlinks. */
  mode?: number;
  /** File contents, or the link target for a symlink. */
  data?: Buffer | string;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(len: number): Buffer {
  const rem = len % 4;
  return Buffer.alloc(rem === 0 ? 0 : 4 - rem);
}

function header(ino: number, mode: number, nlink: number, size: number, nameLen: number): string {
  return (
    '070701' +
    hex8(ino) +
    hex8(mode) +
    hex8(0) + // uid
    hex8(0) + // gid
    hex8(nlink) +
    hex8(0) + // mtime: fixed, so the archive is reproducible
    hex8(size) +
    hex8(0) + // devmajor
    hex8(0) + // devminor
    hex8(0) + // rdevmajor
    hex8(0) + // rdevminor
    hex8(nameLen) +
    hex8(0) // check
  );
}

function record(ino: number, mode: number, nlink: number, name: string, data: Buffer): Buffer[] {
  const nameBuf = Buffer.from(name + '\0', 'utf8');
  const head = Buffer.from(header(ino, mode, nlink, data.length, nameBuf.length), 'ascii');
  return [head, nameBuf, pad4(head.length + nameBuf.length), data, pad4(data.length)];
}

/** Build an uncompressed newc archive (the kernel unpacks it without a decompressor). */
export function buildCpio(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (!name) continue;
    if (e.kind === 'dir') {
      parts.push(...record(ino++, S_IFDIR | (e.mode ?? 0o755), 2, name, Buffer.alloc(0)));
    } else if (e.kind === 'symlink') {
      const target = Buffer.from(String(e.data ?? ''), 'utf8');
      parts.push(...record(ino++, S_IFLNK | 0o777, 1, name, target));
    } else {
      const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : (e.data ?? Buffer.alloc(0));
      parts.push(...record(ino++, S_IFREG | (e.mode ?? 0o644), 1, name, data));
    }
  }
  parts.push(...record(0, 0, 1, 'TRAILER!!!', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** Read back the names in a newc archive (used by tests and for sanity checks). */
export function listCpio(buf: Buffer): { name: string; mode: number; size: number }[] {
  const out: { name: string; mode: number; size: number }[] = [];
  let off = 0;
  const align = (n: number) => (n + 3) & ~3;
  while (off + 110 <= buf.length) {
    const magic = buf.toString('ascii', off, off + 6);
    if (magic !== '070701') throw new Error(`bad cpio magic at ${off}`);
    const field = (i: number) => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameLen = field(11);
    const name = buf.toString('utf8', off + 110, off + 110 + nameLen - 1);
    off = align(off + 110 + nameLen);
    off = align(off + size);
    if (name === 'TRAILER!!!') break;
    out.push({ name, mode, size });
  }
  return out;
}
