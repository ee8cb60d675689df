// Every command file exports register(program). Add new commands here.
import type { Command } from 'commander';
import { register as registerRun } from './run.js';
import { register as registerRegress } from './regress.js';
import { register as registerPlot } from './plot.js';

export function registerCommands(program: Command): void {
  registerRun(program);
  registerRegress(program);
  registerPlot(program);
}
