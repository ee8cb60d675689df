// The lab's slow first steps with a progress bar: a child process (apt-get
// download, dpkg -x) runs while a timer measures what it has written so far
// against the size apt-cache announces. Without a terminal, or with --quiet,
// the child just runs.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { TaskProgress } from '../output/progress.js';

export interface ChildResult {
  status: number | null;
  stderr: string;
}

/** Run a command to its end; while it runs, show measure() against total bytes. */
export async function runWithProgress(
  cmd: string,
  args: string[],
  opts: { cwd?: string; quiet: boolean; what: string; total: number; measure: () => number },
): Promise<ChildResult> {
  const bar = TaskProgress.forTerminal(opts.quiet, opts.what, opts.total, 'bytes');
  const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = bar ? setInterval(() => bar.update(Math.min(opts.measure(), opts.total)), 250) : undefined;
  try {
    const status = await new Promise<number | null>((resolve) => {
      child.on('error', (err) => {
        stderr += err.message;
        resolve(null);
      });
      child.on('close', (code) => resolve(code));
    });
    return { status, stderr };
  } finally {
    clearInterval(timer);
    bar?.stop();
  }
}

/** Bytes of the regular files under dir (a tree being unpacked), 0 if it is not there yet. */
export function treeBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          total += fs.statSync(p).size;
        } catch {
          // gone between readdir and stat
        }
      }
    }
  };
  walk(dir);
  return total;
}
