// What a command hands back. cli.ts alone turns it into the exit code; a
// command never sets process.exitCode or calls process.exit, it returns one of
// these (nothing means 'ok') or throws a BenchError.
import 'commander';

export type Outcome =
  /** Done, nothing to report: exit 0. */
  | 'ok'
  /**
   * The command ran to the end but the verdict is bad: a run interrupted or an
   * export lost, a regression found, a doctor check failed (exit 1).
   */
  | 'failed'
  /** The lab's guest command exited with this status: passed through as ours. */
  | { guestExit: number };

declare module 'commander' {
  interface Command {
    /** An action may return its Outcome (cli.ts's root command collects it). */
    action(fn: (...args: any[]) => Outcome | void | Promise<Outcome | void>): this;
  }
}
