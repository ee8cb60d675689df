// The lab: a stock Debian kernel under QEMU with emulated NVMe controllers.
// The guest mounts the host's root read-only over 9p and chroots into it, so
// this host's node and this project run unchanged inside; the cwd is shared
// writable, so output files land where the user expects.
//
// Streams: the guest command's stdout and stderr come back on two virtio
// console ports (fds 3 and 4 of QEMU), the init reports "ready", "exit N" or
// "fail why" on a third (fd 5). The serial console (QEMU's stdout) carries
// only the kernel's and the init's own messages: kept back during boot and
// shown when something goes wrong.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { runError, usageError } from '../errors.js';
import { chooseAccel, ensureHostTools, say } from './host.js';
import { describeSpec } from './apt.js';
import { ensureKernel, type KernelInfo } from './kernel.js';
import { ensureInitramfs } from './initramfs.js';
import { validateLabOptions, type LabOptions } from './options.js';
import { ensureFdpQemu } from './qemu-fdp.js';
import { cmdScript, describeLab, jobScript, planLab, qemuArgs, type GuestCommand, type LabPlan } from './plan.js';

export type { LabOptions } from './options.js';
export { defaultLabOptions } from './options.js';
export type { GuestCommand } from './plan.js';

const CONSOLE_TAIL = 40;
const JOB_PREFIX = 'nvmebench-lab-';

/** Remove job dirs left by labs whose host process died without cleaning up. */
function sweepStaleJobs(tmp: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(tmp).filter((n) => n.startsWith(JOB_PREFIX));
  } catch {
    return;
  }
  for (const n of names) {
    const dir = path.join(tmp, n);
    try {
      const pid = parseInt(fs.readFileSync(path.join(dir, 'pid'), 'utf8'), 10);
      if (pid > 0) process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** A temp dir whose path has no blanks: the guest finds it on the kernel command line. */
function makeJobDir(): string {
  let tmp = os.tmpdir();
  if (/\s/.test(tmp) || !path.isAbsolute(tmp)) tmp = '/tmp';
  sweepStaleJobs(tmp);
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(tmp, JOB_PREFIX)));
  fs.writeFileSync(path.join(dir, 'pid'), `${process.pid}\n`);
  return dir;
}

function splitLines(onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      rest += chunk.toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l.replace(/\r/g, ''));
    },
    end() {
      if (rest) onLine(rest.replace(/\r/g, ''));
      rest = '';
    },
  };
}

function fmtSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function describeGuest(guest: GuestCommand): string {
  if (guest.shell) return 'a shell (exit or Ctrl-D leaves, Ctrl-A X kills the lab)';
  const text = guest.exec !== undefined ? guest.exec : ['nvmebench', ...(guest.argv ?? [])].join(' ');
  return text.length > 100 ? text.slice(0, 97) + '...' : text;
}

type Outcome =
  | { kind: 'exit'; code: number }
  | { kind: 'fail'; why: string }
  | { kind: 'boot-timeout' }
  | { kind: 'timeout' }
  | { kind: 'signal'; signal: NodeJS.Signals }
  | { kind: 'gone' };

/**
 * Boot a lab, run the guest command in it and return that command's exit code.
 * Output streams live to our stdout/stderr. Throws a BenchError when the lab
 * cannot be built, does not boot, or the command runs past the timeout.
 */
/**
 * Boot a lab, run the guest command in it and return that command's exit code.
 * Output streams live to our stdout/stderr. Throws a BenchError when the lab
 * cannot be built, does not boot, or the command runs past the timeout.
 */
export async function runLab(opts: LabOptions, guest: GuestCommand): Promise<number> {
  checkLabRequest(opts, guest);
  const quiet = opts.quiet;
  const shell = !!guest.shell;

  const tools = ensureHostTools(quiet);
  const kernel = await ensureKernel(tools, quiet, opts.kernel);
  const initrd = ensureInitramfs(tools, kernel, quiet);
  const accel = chooseAccel(opts.accel);
  const fdpQemu = opts.fdp?.length ? await ensureFdpQemu(tools.qemu, quiet) : undefined;
  const qemu = fdpQemu?.path ?? tools.qemu;

  const jobDir = makeJobDir();
  let child: ChildProcess | null = null;
  const killNow = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const cleanupSync = () => {
    killNow();
    fs.rmSync(jobDir, { recursive: true, force: true });
  };
  process.on('exit', cleanupSync);
  try {
    const plan = planLab(opts, jobDir);
    writeJob(opts, guest, plan, kernel, jobDir);

    const args = qemuArgs(opts, plan, {
      accel: accel.accel,
      kernelImage: kernel.vmlinux ?? kernel.vmlinuz,
      initrd: initrd.path,
      jobDir,
      shell,
      dataDirs: fdpQemu?.dataDirs,
    });
    if (process.env.NVMEBENCH_DEBUG) process.stderr.write(`lab: qemu-system-x86_64 ${args.join(' ')}\n`);
    const accelWhy = accel.accel === 'tcg' ? `TCG: ${accel.why}` : 'KVM';
    say(quiet, `booting Linux ${kernel.release} (--kernel ${describeSpec(opts.kernel)}) under ${fdpQemu ? fdpQemu.what : 'QEMU'} (${accelWhy}; ${opts.cpus} vCPU${opts.cpus > 1 ? 's' : ''}, ${opts.memMiB} MiB): ${describeLab(opts, plan)}`);

    // setpriv makes the kernel kill QEMU if we die without running our handlers.
    const [cmd, argv] = tools.setpriv ? [tools.setpriv, ['--pdeathsig', 'KILL', '--', qemu, ...args]] : [qemu, args];
    const t0 = Date.now();
    const proc = spawn(cmd, argv, {
      stdio: [shell ? 'inherit' : 'ignore', shell ? 'inherit' : 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    child = proc;
    return labExitCode(await watchQemu(proc, opts, guest, { t0, killNow }), opts, shell);
  } finally {
    process.off('exit', cleanupSync);
    cleanupSync();
  }
}

/** The checks that need no QEMU: the options, one guest mode, and the directories that must exist. */
function checkLabRequest(opts: LabOptions, guest: GuestCommand): void {
  validateLabOptions(opts);
  const modes = [guest.shell ? 1 : 0, guest.exec !== undefined ? 1 : 0, guest.argv && guest.argv.length ? 1 : 0].reduce((a, b) => a + b, 0);
  if (modes > 1) throw usageError('give one of: a command after --, --exec, or --shell');
  if (!fs.existsSync(opts.cwd) || !fs.statSync(opts.cwd).isDirectory()) throw usageError(`the directory ${opts.cwd} does not exist`);
  for (const s of opts.shares) {
    if (!fs.existsSync(s) || !fs.statSync(s).isDirectory()) throw usageError(`--share ${s} is not a directory`, 'create it first');
  }
}

/** The job directory's contents: sparse namespace images and the scripts the guest's init runs. */
function writeJob(opts: LabOptions, guest: GuestCommand, plan: LabPlan, kernel: KernelInfo, jobDir: string): void {
  const shell = !!guest.shell;
  for (const c of plan.controllers) {
    for (const ns of c.namespaces) {
      fs.writeFileSync(ns.file, '');
      fs.truncateSync(ns.file, opts.nsSize); // sparse
    }
  }
  const stty = shell && process.stdout.isTTY && process.stdout.rows ? `rows ${process.stdout.rows} cols ${process.stdout.columns}` : '';
  fs.writeFileSync(path.join(jobDir, 'job.sh'), jobScript(opts, plan, kernel, shell ? 'shell' : 'run', stty));
  fs.writeFileSync(path.join(jobDir, 'cmd.sh'), cmdScript(opts, guest, os.homedir() || '/root'));
}

/** How the lab ended, with what to show when it went wrong. */
interface LabEnd {
  outcome: Outcome;
  tail: string[];
  qemuErr: string;
  booted: boolean;
}

/**
 * Forward the guest's streams while QEMU runs and settle on the first ending:
 * the command's exit, a failure the init reports, a timeout, or a signal to us.
 */
function watchQemu(proc: ChildProcess, opts: LabOptions, guest: GuestCommand, run: { t0: number; killNow: () => void }): Promise<LabEnd> {
  const { quiet } = opts;
  const shell = !!guest.shell;
  const debug = !!process.env.NVMEBENCH_DEBUG;
  const { t0, killNow } = run;
  return new Promise<LabEnd>((resolve) => {
    let result: Outcome | null = null;
    let ready = false;
    let finished = false; // the init reported the command's exit
    const consoleTail: string[] = [];
    let qemuErr = '';
    const settle = (o: Outcome) => {
      if (!result) result = o;
    };

    const onSignal = (signal: NodeJS.Signals) => {
      settle({ kind: 'signal', signal });
      if (proc.exitCode === null) proc.kill('SIGTERM');
      setTimeout(killNow, 2000).unref();
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, onSignal);

    const bootTimer = setTimeout(() => {
      settle({ kind: 'boot-timeout' });
      killNow();
    }, opts.bootTimeout * 1000);
    let runTimer: NodeJS.Timeout | null = null;

    // Serial console: kept back during boot, forwarded while the command runs.
    const con = splitLines((line) => {
      consoleTail.push(line);
      if (consoleTail.length > 400) consoleTail.splice(0, consoleTail.length - 400);
      if (((ready && !finished) || debug) && line.trim()) process.stderr.write(`lab console: ${line}\n`);
    });
    if (proc.stdout) {
      proc.stdout.on('data', (d: Buffer) => con.push(d));
      proc.stdout.on('end', () => con.end());
    }
    proc.stderr?.on('data', (d: Buffer) => {
      if (qemuErr.length < 65536) qemuErr += d.toString('utf8');
    });

    const out = (proc.stdio as unknown as (Readable | null)[])[3];
    const err = (proc.stdio as unknown as (Readable | null)[])[4];
    const ctlStream = (proc.stdio as unknown as (Readable | null)[])[5];
    out?.on('data', (d: Buffer) => process.stdout.write(d));
    err?.on('data', (d: Buffer) => process.stderr.write(d));
    const ctl = splitLines((line) => {
      const [word, ...rest] = line.trim().split(' ');
      if (word === 'ready' && !ready) {
        ready = true;
        clearTimeout(bootTimer);
        say(quiet, `guest ready after ${fmtSeconds(Date.now() - t0)}; running ${describeGuest(guest)}`);
        if (!shell && opts.timeout > 0) {
          runTimer = setTimeout(() => {
            settle({ kind: 'timeout' });
            killNow();
          }, opts.timeout * 1000);
        }
      } else if (word === 'exit') {
        finished = true;
        const code = parseInt(rest[0] ?? '', 10);
        settle({ kind: 'exit', code: Number.isFinite(code) ? code : 1 });
        // The init powers off next; should that stall, stop QEMU anyway.
        setTimeout(killNow, 15_000).unref();
      } else if (word === 'fail') {
        settle({ kind: 'fail', why: rest.join(' ') });
      }
    });
    ctlStream?.on('data', (d: Buffer) => ctl.push(d));
    ctlStream?.on('end', () => ctl.end());

    proc.on('error', (e: NodeJS.ErrnoException) => {
      settle({ kind: 'fail', why: `could not start QEMU (${e.code ?? e.message})` });
    });
    proc.on('close', () => {
      clearTimeout(bootTimer);
      if (runTimer) clearTimeout(runTimer);
      for (const s of signals) process.off(s, onSignal);
      con.end();
      ctl.end();
      resolve({ outcome: result ?? { kind: 'gone' }, tail: consoleTail.slice(-CONSOLE_TAIL), qemuErr, booted: ready });
    });
  });
}

/** The guest command's exit code, or the error that says why there is none. */
function labExitCode(end: LabEnd, opts: LabOptions, shell: boolean): number {
  const { outcome, tail, qemuErr, booted } = end;
  const { quiet } = opts;
  switch (outcome.kind) {
    case 'exit':
      return outcome.code;
    case 'signal': {
      say(quiet, `interrupted (${outcome.signal}); QEMU stopped`);
      const num = os.constants.signals[outcome.signal] ?? 2;
      return 128 + num;
    }
    case 'boot-timeout': {
      const shown = showConsole(tail, qemuErr);
      throw runError(
        `the lab did not boot within ${opts.bootTimeout} s`,
        `${shown ? 'see the guest console above; ' : ''}on a slow machine raise --boot-timeout`,
      );
    }
    case 'timeout':
      showConsole(tail, qemuErr, true);
      throw runError(`the guest command did not finish within ${opts.timeout} s; QEMU was stopped`, 'raise --timeout (0 means no limit)');
    case 'fail': {
      const shown = showConsole(tail, qemuErr);
      throw runError(`the lab failed: ${outcome.why}`, shown ? 'see the guest console above' : 'run again with NVMEBENCH_DEBUG=1 to watch the boot');
    }
    case 'gone': {
      if (shell && booted) {
        say(quiet, 'the lab was stopped from the console');
        return 1;
      }
      const qerr = qemuErrorLine(qemuErr);
      if (qerr && !tail.some((l) => l.trim())) {
        const nsProp = /Property '?nvme-ns\.([^' ]+)'? not found/.exec(qerr);
        throw runError(
          `QEMU failed: ${qerr}`,
          nsProp ? `QEMU's nvme-ns has no property ${nsProp[1]}: fix --ns-props (qemu-system-x86_64 -device nvme-ns,help lists them)` : 'check the lab options (NVMEBENCH_DEBUG=1 prints the QEMU command)',
        );
      }
      const shown = showConsole(tail, qemuErr);
      const panic = tail.map((l) => /Kernel panic - not syncing: (.*)/.exec(l)?.[1]).find(Boolean);
      if (panic) throw runError(`the guest kernel panicked: ${panic.trim()}`, 'see the guest console above');
      throw runError('the guest stopped before the command finished', shown ? 'see the guest console above' : 'run again with NVMEBENCH_DEBUG=1 to watch the boot');
    }
  }
}

function qemuErrorLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/terminating on signal/.test(l));
  const err = lines.find((l) => /^qemu-system[^:]*:/.test(l));
  return (err ?? lines[0] ?? '').replace(/^qemu-system[^:]*:\s*/, '');
}

/** Print the console tail and QEMU's complaints, if any; true when something was shown. */
function showConsole(tail: string[], qemuErr: string, onlyIfAny = false): boolean {
  const lines = tail.filter((l) => l.trim());
  const qerr = qemuErr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/terminating on signal/.test(l));
  if (lines.length === 0 && qerr.length === 0) {
    if (!onlyIfAny) process.stderr.write('nvmebench: the guest console printed nothing\n');
    return false;
  }
  if (lines.length) process.stderr.write(`nvmebench: last lines of the guest console:\n${lines.map((l) => `  | ${l}`).join('\n')}\n`);
  if (qerr.length) process.stderr.write(`nvmebench: QEMU said:\n${qerr.map((l) => `  | ${l}`).join('\n')}\n`);
  return true;
}
