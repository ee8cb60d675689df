// nvmebench completion bash|zsh|fish: a completion script made from the
// commander program itself (its commands, options, arguments and choices),
// so a new option completes without anyone editing a list. What a value
// completes to comes from the option's or argument's name (optionValues,
// argumentValues).
import type { Argument, Command, Option } from 'commander';
import { ENGINES } from '../engines/registry.js';
import { METRICS } from '../analysis/stats.js';
import { builtinProfileNames } from '../plan/profiles.js';
import { VERSION } from '../version.js';
import { COMPLETION_SHELLS, completionScript, type CompletionCommand, type CompletionOption, type Values } from '../output/completion.js';

const FILE: Values = { kind: 'file' };
const TARGET: Values = { kind: 'target' };

function words(list: string[], commaList = false): Values {
  return { kind: 'words', words: list, commaList };
}

/** What an option's value completes to, from its name and flags: choices, engines, files, or nothing to offer. */
function optionValues(option: Option): Values {
  if (option.argChoices) return words(option.argChoices);
  if (option.attributeName() === 'engine') return words([...ENGINES.map((e) => e.name), 'all'], true);
  if (option.attributeName() === 'metric') return words(METRICS.map((m) => m.name), true);
  if (/[<[](file|dir)[>\]]/.test(option.flags) || option.long === '--share') return FILE;
  return { kind: 'none' };
}

/** What a positional argument completes to, from its name. */
function argumentValues(arg: Argument, root: Command): Values {
  switch (arg.name()) {
    case 'target':
    case 'controller':
      return TARGET;
    case 'profile':
      return { kind: 'words', words: builtinProfileNames(), commaList: false, alsoFiles: true };
    case 'command':
      return words(root.commands.map((c) => c.name()));
    case 'shell':
      return words([...COMPLETION_SHELLS]);
    default:
      return arg.argChoices ? words(arg.argChoices) : FILE;
  }
}

function describe(cmd: Command, root: Command, inherited: CompletionOption[], path: string[]): CompletionCommand {
  const options: CompletionOption[] = cmd.options
    .filter((o) => !o.hidden)
    .map((o) => ({
      names: [o.short, o.long].filter((n): n is string => !!n),
      description: o.description,
      values: o.required || o.optional ? optionValues(o) : undefined,
    }));
  options.push({ names: ['-h', '--help'], description: 'display help for command', values: undefined });
  const subcommands = cmd.commands.map((c) => describe(c, root, inherited, [...path, c.name()]));
  if (cmd === root) {
    subcommands.push({ path: ['help'], name: 'help', description: 'display help for command', options: [], args: [words(root.commands.map((c) => c.name()))], variadicLast: false, subcommands: [] });
  }
  const args = cmd.registeredArguments.map((a) => argumentValues(a, root));
  return {
    path,
    name: cmd.name(),
    description: cmd.description(),
    // Root options (--color) are taken after a subcommand too.
    options: cmd === root ? options : [...options, ...inherited],
    args,
    variadicLast: cmd.registeredArguments.at(-1)?.variadic ?? false,
    subcommands,
  };
}

/** The program as completion scripts see it. */
export function completionModel(root: Command): CompletionCommand {
  const inherited = root.options
    .filter((o) => o.long !== '--version')
    .map((o) => ({ names: [o.long!], description: o.description, values: optionValues(o) }));
  return describe(root, root, inherited, []);
}

export function register(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .argument('<shell>', `the shell: ${COMPLETION_SHELLS.join(', ')}`)
    .action((shell: string) => {
      process.stdout.write(completionScript(shell, completionModel(program), VERSION));
    });
}
