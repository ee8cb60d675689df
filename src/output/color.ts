// Colour on the terminal, and the one place that decides whether to use it:
// --color never|auto|always, then NO_COLOR (https://no-color.org: any
// non-empty value turns colour off), then whether the stream is a terminal.
// An explicit --color always wins over NO_COLOR, as a command-line flag
// should win over the environment. Everything that prints in colour asks here.
export const COLOR_WHEN = ['never', 'auto', 'always'] as const;
export type ColorWhen = (typeof COLOR_WHEN)[number];

// Set once from the root --color option before a command runs (cli.ts).
let chosen: ColorWhen = 'auto';

export function setColorWhen(when: ColorWhen): void {
  chosen = when;
}

/** Whether text written to this stream may carry colour. */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (chosen !== 'auto') return chosen === 'always';
  if (env.NO_COLOR) return false;
  return !!stream.isTTY && env.TERM !== 'dumb';
}

export interface Painter {
  enabled: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

// SGR codes: each colour is closed by its own reset, so nesting stays sane.
const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string): string => s;

/** Colour functions for text bound for this stream; each is the identity when colour is off. */
export function painterFor(stream: { isTTY?: boolean }): Painter {
  const on = colorEnabled(stream);
  return {
    enabled: on,
    red: on ? sgr(31, 39) : plain,
    green: on ? sgr(32, 39) : plain,
    yellow: on ? sgr(33, 39) : plain,
    cyan: on ? sgr(36, 39) : plain,
    bold: on ? sgr(1, 22) : plain,
    dim: on ? sgr(2, 22) : plain,
  };
}

/** The text without its SGR colour codes (for measuring widths). */
export function stripColor(s: string): string {
  return s.includes('\x1b') ? s.replace(/\x1b\[[0-9;]*m/g, '') : s;
}
