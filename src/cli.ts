// Parse → options → scheduler → results → exporters. This file only wires the
// commands together and maps what they return, or throw, to exit codes, in one
// place.
import { Command, CommanderError, Option } from 'commander';
import { BenchError, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_RUN_FAILED } from './errors.js';
import { VERSION } from './version.js';
import { registerCommands } from './commands/index.js';
import type { Outcome } from './commands/outcome.js';
import { COLOR_WHEN, painterFor, setColorWhen, type ColorWhen } from './output/color.js';

/**
 * A command whose actions hand their Outcome to settle(). Subcommands are made
 * through createCommand, so every action under the root reports here.
 */
class OutcomeCommand extends Command {
  constructor(
    name: string | undefined,
    private readonly settle: (outcome: Outcome) => void,
  ) {
    super(name);
  }

  override createCommand(name?: string): Command {
    return new OutcomeCommand(name, this.settle);
  }

  override action(fn: (...args: any[]) => Outcome | void | Promise<Outcome | void>): this {
    return super.action(async (...args: unknown[]) => {
      this.settle((await fn.apply(this, args)) ?? 'ok');
    });
  }
}

/** The exit code for what a command returned. */
export function exitCodeFor(outcome: Outcome): number {
  if (outcome === 'ok') return EXIT_OK;
  if (outcome === 'failed') return EXIT_RUN_FAILED;
  return outcome.guestExit;
}

/** The nvmebench program with every command; settle receives what the command that ran returned. */
export function createProgram(settle: (outcome: Outcome) => void): Command {
  const program = new OutcomeCommand(undefined, settle);
  program
    .name('nvmebench')
    .description('Compare the Linux NVMe I/O paths side by side on the same namespace')
    .version(VERSION)
    .addOption(new Option('--color <when>', 'colour: never, auto (on a terminal, unless NO_COLOR is set) or always').choices(COLOR_WHEN).default('auto'))
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(`nvmebench: ${text.replace(/^error: /, '')}`),
    });
  // Root options are taken after the subcommand too (nvmebench regress a b --color never).
  program.hook('preAction', (root) => setColorWhen(root.opts<{ color: ColorWhen }>().color));
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let outcome: Outcome = 'ok';
  const program = createProgram((o) => {
    outcome = o;
  });
  try {
    await program.parseAsync(argv);
    return exitCodeFor(outcome);
  } catch (err) {
    return reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof BenchError) {
    process.stderr.write(`${painterFor(process.stderr).red('nvmebench:')} ${err.toLine()}\n`);
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
