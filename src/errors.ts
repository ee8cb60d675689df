// One error type for everything the user can be told. The top-level handler in
// cli.ts maps it to an exit code; nothing else calls process.exit.

export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
/**
 * A bug in nvmebench (an exception that is not a BenchError), as sysexits'
 * EX_SOFTWARE: never 1, which a CI gate reads as "the run failed" or "regress
 * found a regression".
 */
export const EXIT_INTERNAL = 70;

export type ErrorKind = 'usage' | 'run';

export class BenchError extends Error {
  readonly kind: ErrorKind;
  readonly fix: string;

  constructor(kind: ErrorKind, message: string, fix = '') {
    super(message);
    this.name = 'BenchError';
    this.kind = kind;
    this.fix = fix;
  }

  get exitCode(): number {
    return this.kind === 'usage' ? EXIT_BAD_INPUT : EXIT_RUN_FAILED;
  }

  /** One line: the problem, then the fix (a line break quoted from the input shows as \n). */
  toLine(): string {
    const line = this.fix ? `${this.message}: ${this.fix}` : this.message;
    return line.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  }
}

/** Bad input or usage: exit code 2. */
export function usageError(message: string, fix = ''): BenchError {
  return new BenchError('usage', message, fix);
}

/** The run could not be done or failed part-way: exit code 1. */
export function runError(message: string, fix = ''): BenchError {
  return new BenchError('run', message, fix);
}

/** Turn an errno code from node into words a storage engineer would use. */
export function describeErrno(code: string | undefined, path: string): BenchError {
  switch (code) {
    case 'ENOENT':
      return usageError(`${path} does not exist`, 'check the path (nvmebench devices lists NVMe namespaces)');
    case 'EACCES':
    case 'EPERM':
      return usageError(`permission denied on ${path}`, 'run as root, or grant access with: sudo chmod o+rw ' + path);
    case 'EISDIR':
      return usageError(`${path} is a directory`, 'give a file, a block device or an NVMe char device');
    case 'EBUSY':
      return runError(`${path} is busy (held exclusively by another user)`, 'stop whatever holds it, or pick another target');
    default:
      return runError(`cannot open ${path} (${code ?? 'unknown error'})`, 'check the target');
  }
}
