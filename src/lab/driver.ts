// Runs inside a lab guest: executes bin/nvmebench.js several times in one
// node process and prints one "@@RESULT {json}" line per step (name, exit
// code, stdout, stderr). Node starts slowly under TCG emulation (tens of
// seconds to load the CLI's modules over 9p), so one process per boot keeps
// a lab test group to a single start-up. Each step imports the real
// bin/nvmebench.js afresh (a new module instance; its dependencies stay
// loaded), so every step goes through the same entry point as a user's run.
//
//   node dist/src/lab/driver.js <base64 of JSON Step[]> [results-file]
//
// With a results file (in the lab's shared cwd), the result lines go there
// instead of stdout: nvmebench compat reads them back on the host.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { RESULT_MARK, type Step, type StepResult } from './steps.js';


type Write = typeof process.stdout.write;

async function runStep(step: Step, index: number, bin: string): Promise<StepResult> {
  const started = Date.now();
  if (step.dropRoot && process.getuid?.() === 0) {
    process.setgroups?.([]);
    process.setgid?.(65534);
    process.setuid?.(65534);
  }
  if (step.sh !== undefined) {
    try {
      const stdout = execSync(step.sh, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return { name: step.name, code: 0, stdout, stderr: '', ms: Date.now() - started };
    } catch (err) {
      const e = err as { status?: number; stdout?: string; stderr?: string };
      return { name: step.name, code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '', ms: Date.now() - started };
    }
  }
  const captured = { stdout: '', stderr: '' };
  const realOut = process.stdout.write;
  const realErr = process.stderr.write;
  const capture = (key: 'stdout' | 'stderr'): Write =>
    ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      captured[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const cb = typeof encoding === 'function' ? encoding : callback;
      if (typeof cb === 'function') (cb as () => void)();
      return true;
    }) as Write;
  const argv = process.argv;
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  process.argv = [argv[0], bin, ...(step.args ?? [])];
  process.exitCode = undefined;
  let code: number;
  try {
    await import(`${pathToFileURL(bin).href}?step=${index}`);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    captured.stderr += `lab driver: ${(err as Error).stack ?? String(err)}\n`;
    code = 99;
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    process.argv = argv;
    process.exitCode = undefined;
  }
  return { name: step.name, code, stdout: captured.stdout, stderr: captured.stderr, ms: Date.now() - started };
}

async function main(): Promise<void> {
  const steps = JSON.parse(Buffer.from(process.argv[2] ?? '', 'base64').toString('utf8')) as Step[];
  const out = process.argv[3];
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'nvmebench.js');
  for (let i = 0; i < steps.length; i++) {
    const result = await runStep(steps[i], i, bin);
    const line = RESULT_MARK + JSON.stringify(result) + '\n';
    if (out) fs.appendFileSync(out, line);
    else process.stdout.write(line);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
