// Parse → options → scheduler → results → exporters. This file only wires the
// commands together and maps errors to exit codes, in one place.
import { Command, CommanderError } from 'commander';
import { BenchError, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK } from './errors.js';
import { VERSION } from './version.js';
import { registerCommands } from './commands/index.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('nvmebench')
    .description('Compare the Linux NVMe I/O paths side by side on the same namespace')
    .version(VERSION)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(`nvmebench: ${text.replace(/^error: /, '')}`),
    });
  registerCommands(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    return reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof BenchError) {
    process.stderr.write(`nvmebench: ${err.toLine()}\n`);
    return err.exitCode;
  }
  if (err instanceof CommanderError) {
    // Help and version exit 0; every other parse error is bad usage.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return EXIT_OK;
    }
    return EXIT_BAD_INPUT;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`nvmebench: internal error: ${message} (please report it, with NVMEBENCH_DEBUG=1 for the trace)\n`);
  if (process.env.NVMEBENCH_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return EXIT_INTERNAL;
}
