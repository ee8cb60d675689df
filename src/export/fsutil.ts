// Small file helpers shared by the exporters.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function ensureParentDir(file: string): void {
  const dir = dirname(file);
  if (dir && dir !== '.' && !existsSync(dir)) mkdirSync(dir, { recursive: true });
}

/**
 * Replace `file` with `text` atomically (write a sibling temp file, then
 * rename), so a crash mid-write never leaves half a file. '-' writes to stdout.
 */
export function writeFileAtomic(file: string, text: string): void {
  if (file === '-') {
    process.stdout.write(text);
    return;
  }
  ensureParentDir(file);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
