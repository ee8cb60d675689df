// Where an export may write, and how. Every writer (CSV, JSON, Markdown, SVG,
// regress --md) goes through here:
//
//  - classify the path: '-' or /dev/stdout-like (stdio), missing, regular file,
//    symlink (followed to its target, which is what gets replaced), directory,
//    character device, FIFO, block device;
//  - check it before anything runs (checkOutputPath): a directory, a block
//    device, the benchmark target itself, a path under a regular file, or a
//    directory we cannot create files in is refused with a usage error;
//  - replace only a regular file (or create a missing one) atomically: a temp
//    file beside it, then rename; the temp file is removed on every error;
//  - write through to a character device, a FIFO or stdout;
//  - append whole records under flock(2) (appendLocked): one write call, and on
//    a short write or an error the file is cut back to its previous size.
import {
  accessSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BenchError, runError, usageError } from '../errors.js';
import { native } from '../native/addon.js';

export type OutputKind = 'stdio' | 'missing' | 'regular' | 'directory' | 'char' | 'fifo' | 'block' | 'socket';

export interface OutputPath {
  /** As the user gave it: what messages name. */
  given: string;
  /** The file to write: symlinks followed. */
  path: string;
  kind: OutputKind;
  /** stdio only: the descriptor to write to. */
  fd?: number;
}

/** Written through (never replaced): stdout-like, character devices, FIFOs. */
export function isStream(out: OutputPath): boolean {
  return out.kind === 'stdio' || out.kind === 'char' || out.kind === 'fifo';
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

/** '-', /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: our own descriptor. */
function stdioFd(given: string): number | undefined {
  if (given === '-' || given === '/dev/stdout') return 1;
  if (given === '/dev/stderr') return 2;
  const m = /^\/(?:dev\/fd|proc\/self\/fd|proc\/(\d+)\/fd)\/(\d+)$/.exec(given);
  if (m && (m[1] === undefined || Number(m[1]) === process.pid)) return Number(m[2]);
  return undefined;
}

function kindOf(st: Stats): OutputKind {
  if (st.isFile()) return 'regular';
  if (st.isDirectory()) return 'directory';
  if (st.isCharacterDevice()) return 'char';
  if (st.isFIFO()) return 'fifo';
  if (st.isBlockDevice()) return 'block';
  return 'socket';
}

/** The nearest ancestor of `path` that exists (path itself excluded). */
function existingAncestor(path: string): { dir: string; st: Stats } {
  let dir = dirname(path);
  for (;;) {
    try {
      return { dir, st: statSync(dir) };
    } catch (err) {
      const parent = dirname(dir);
      if (parent === dir || (code(err) !== 'ENOENT' && code(err) !== 'ENOTDIR')) throw err;
      dir = parent;
    }
  }
}

/** What is at `given`, following symlinks one hop at a time (so a dangling link names the file to create). */
export function classifyOutput(given: string): OutputPath {
  const fd = stdioFd(given);
  if (fd !== undefined) return { given, path: given, kind: 'stdio', fd };
  let path = resolve(given);
  for (let hops = 0; ; hops++) {
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch (err) {
      if (code(err) === 'ENOENT') return { given, path, kind: 'missing' };
      if (code(err) === 'ENOTDIR') {
        const { dir } = existingAncestor(path);
        throw usageError(`cannot write ${given}: ${dir} is not a directory`, 'give a path under a directory');
      }
      throw describeExportError(err, given, 'usage');
    }
    if (!st.isSymbolicLink()) return { given, path, kind: kindOf(st) };
    if (hops >= 40) throw usageError(`cannot write ${given}: too many levels of symbolic links`, 'point the link at a file');
    path = resolve(dirname(path), readlinkSync(path));
  }
}

/** Devices and files the export must never be: the target and its nodes. */
export interface TargetNodes {
  paths: string[];
  /** What they are, for the message (default: the benchmark target). */
  what?: string;
}

function sameNode(a: Stats, b: Stats): boolean {
  if (a.dev === b.dev && a.ino === b.ino) return true;
  // Two device nodes for one device (mknod'd copies, /dev/disk/by-id links).
  return (a.isBlockDevice() || a.isCharacterDevice()) && a.isBlockDevice() === b.isBlockDevice() && a.rdev === b.rdev;
}

/**
 * Check an export path before anything runs; returns it classified. Throws a
 * usage error (exit 2) naming the problem and the fix. `append` opens an
 * existing regular file for appending instead of checking its directory for
 * the temp file a replacement needs.
 */
export function checkOutputPath(given: string, opts: { flag?: string; append?: boolean; target?: TargetNodes } = {}): OutputPath {
  const what = opts.flag ? `${opts.flag} ${given}` : given;
  const out = classifyOutput(given);
  if (out.kind === 'stdio') return out;
  refuseKind(out, what, opts.flag, usageError);
  if (opts.target && out.kind !== 'missing') {
    const st = statSync(out.path);
    for (const node of opts.target.paths) {
      let t: Stats;
      try {
        t = statSync(node);
      } catch {
        continue;
      }
      if (sameNode(st, t)) {
        throw usageError(`${what}: ${given} is ${opts.target.what ?? 'the benchmark target'}${node !== given ? ` (${node})` : ''}`, 'give another file name for the results');
      }
    }
  }
  if (out.kind === 'char' || out.kind === 'fifo') {
    try {
      accessSync(out.path, constants.W_OK);
    } catch (err) {
      throw describeExportError(err, given, 'usage');
    }
    return out;
  }
  if (out.kind === 'regular' && opts.append) {
    try {
      closeSync(openSync(out.path, constants.O_WRONLY | constants.O_APPEND));
    } catch (err) {
      throw describeExportError(err, given, 'usage');
    }
    return out;
  }
  // Missing, or regular to be replaced: we must be able to create files beside it.
  const { dir, st } = out.kind === 'missing' ? existingAncestor(out.path) : { dir: dirname(out.path), st: statSync(dirname(out.path)) };
  if (!st.isDirectory()) throw usageError(`${what}: ${dir} is not a directory`, 'give a path under a directory');
  try {
    rmdirSync(mkdtempSync(join(dir, '.nvmebench-probe-')));
  } catch (err) {
    const c = code(err);
    if (c === 'ENOENT') {
      // Directories such as /proc refuse new entries this way.
      throw usageError(`${what}: cannot create files in ${dir}`, 'give a path in a writable directory, e.g. under /tmp');
    }
    throw describeExportError(err, given, 'usage', dir);
  }
  return out;
}

/** A directory, a block device or a socket is never an export: throw naming it. */
function refuseKind(out: OutputPath, what: string, flag: string | undefined, make: typeof usageError): void {
  const { given } = out;
  if (out.kind === 'directory') throw make(`${what}: ${given} is a directory`, `give a file name, e.g. ${join(given, exampleName(flag))}`);
  if (out.kind === 'block') throw make(`${what}: ${given} is a block device`, 'exports go to files; give a file name');
  if (out.kind === 'socket') throw make(`${what}: ${given} is a socket`, 'give a file name, a FIFO or - for stdout');
}

function exampleName(flag?: string): string {
  switch (flag) {
    case '--csv':
      return 'results.csv';
    case '--md':
      return 'results.md';
    case '--plot':
    case '-o':
      return 'chart.svg';
    default:
      return 'results.json';
  }
}

/**
 * One line for a failed export: the problem and the fix. `usage` for checks
 * before a run (exit 2), `run` for a write that failed afterwards (exit 1).
 */
export function describeExportError(err: unknown, given: string, kind: 'usage' | 'run' = 'run', dir?: string): BenchError {
  if (err instanceof BenchError) return err;
  const make = kind === 'usage' ? usageError : runError;
  const where = dir ?? given;
  switch (code(err)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return make(`cannot write ${given}: no space left on the device`, 'free some space, or give a path on another filesystem');
    case 'EROFS':
      return make(`cannot write ${given}: ${where} is on a read-only filesystem`, 'give a path on a writable filesystem, e.g. under /tmp');
    case 'EACCES':
    case 'EPERM':
      return make(`cannot write ${given}: permission denied on ${where}`, 'give a path you can write to, or run as a user who can');
    case 'EISDIR':
      return make(`cannot write ${given}: it is a directory`, 'give a file name');
    case 'ENOTDIR':
      return make(`cannot write ${given}: a part of the path is not a directory`, 'give a path under a directory');
    case 'ENOENT':
      return make(`cannot write ${given}: its directory is gone`, 'give a path in an existing directory');
    case 'EPIPE':
      return make(`cannot write ${given}: the reader went away`, 'keep the reader open until nvmebench exits');
    case 'ENXIO':
      return make(`cannot write ${given}: no device or reader behind it`, 'start the reader first, or give a file name');
    case 'EFBIG':
      return make(`cannot write ${given}: the file is too large for the filesystem`, 'give a new file');
    case 'EIO':
      return make(`cannot write ${given}: I/O error`, 'check the device that holds it (dmesg)');
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return make(`cannot write ${given}: ${message}`, 'give another path');
    }
  }
}

function writeAll(fd: number, data: Buffer): void {
  // Our stdout and stderr go through node's streams, in order with the table.
  if (fd === 1 || fd === 2) {
    (fd === 1 ? process.stdout : process.stderr).write(data);
    return;
  }
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
}

function ensureDir(dir: string, given: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw describeExportError(err, given);
  }
}

/**
 * Write `text` to an export path: stdout-like and device/FIFO paths are
 * written through; a regular file (or a missing one) is replaced atomically,
 * following a symlink to its target. Throws a run error in one line.
 */
export function writeExport(dest: string | OutputPath, text: string): void {
  const out = typeof dest === 'string' ? classifyOutput(dest) : dest;
  const data = Buffer.from(text, 'utf8');
  if (out.kind === 'stdio') {
    try {
      writeAll(out.fd!, data);
    } catch (err) {
      throw describeExportError(err, out.given);
    }
    return;
  }
  if (out.kind === 'char' || out.kind === 'fifo') {
    let fd: number | undefined;
    try {
      fd = openSync(out.path, constants.O_WRONLY);
      writeAll(fd, data);
    } catch (err) {
      throw describeExportError(err, out.given);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return;
  }
  refuseKind(out, `cannot write ${out.given}`, undefined, runError);
  const dir = dirname(out.path);
  ensureDir(dir, out.given);
  const tmp = join(dir, `.${basename(out.path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o666);
    if (out.kind === 'regular') {
      try {
        fchmodSync(fd, statSync(out.path).mode & 0o7777);
      } catch {
        // The old file went away meanwhile: keep the default mode.
      }
    }
    writeAll(fd, data);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, out.path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw describeExportError(err, out.given);
  }
}

/** A descriptor held for a run's worth of appends to a FIFO, a device or stdout. */
export interface OutputStream {
  write(text: string): void;
  close(): void;
}

/** Open a stream export once (a FIFO waits for its reader here). */
export function openOutputStream(out: OutputPath): OutputStream {
  let fd: number | undefined = out.kind === 'stdio' ? out.fd : undefined;
  const own = out.kind !== 'stdio';
  return {
    write(text: string): void {
      try {
        if (fd === undefined) fd = openSync(out.path, constants.O_WRONLY);
        writeAll(fd, Buffer.from(text, 'utf8'));
      } catch (err) {
        throw describeExportError(err, out.given);
      }
    },
    close(): void {
      if (own && fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** A locked file's descriptor and size, for deciding what to append. */
export interface LockedFile {
  fd: number;
  size: number;
}

/**
 * Append to a regular file under an exclusive flock, whole or not at all:
 * `compose` sees the locked file (to read its header, its last byte) and
 * returns the text; it goes down in one write call, and a short write or an
 * error cuts the file back to where it was. Creates the file and its parents.
 */
export function appendLocked(dest: string | OutputPath, compose: (file: LockedFile) => string): void {
  const out = typeof dest === 'string' ? classifyOutput(dest) : dest;
  refuseKind(out, `cannot append to ${out.given}`, undefined, runError);
  if (out.kind !== 'regular' && out.kind !== 'missing') throw runError(`cannot append to ${out.given}: it is not a regular file`, 'give a file name');
  ensureDir(dirname(out.path), out.given);
  let fd: number;
  try {
    fd = openSync(out.path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o666);
  } catch (err) {
    throw describeExportError(err, out.given);
  }
  try {
    native().flock(fd, 'ex');
    const data = Buffer.from(compose({ fd, size: fstatSync(fd).size }), 'utf8');
    const size = fstatSync(fd).size; // compose may have cut a blank file to 0
    let written = 0;
    try {
      written = writeSync(fd, data);
    } catch (err) {
      ftruncateSync(fd, size);
      throw describeExportError(err, out.given);
    }
    if (written !== data.length) {
      ftruncateSync(fd, size);
      throw describeExportError(Object.assign(new Error('short write'), { code: 'ENOSPC' }), out.given);
    }
  } finally {
    closeSync(fd); // releases the lock
  }
}
