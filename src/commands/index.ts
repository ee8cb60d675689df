// Every command file exports register(program). Add new commands here.
import type { Command } from 'commander';
import { register as registerRun } from './run.js';
import { register as registerNvmeCommands } from './nvme-cmds.js';
import { register as registerRegress } from './regress.js';
import { register as registerPlot } from './plot.js';
import { register as registerLab } from './lab.js';
import { register as registerDemo } from './demo.js';
import { register as registerDevices } from './devices.js';
import { register as registerDoctor } from './doctor.js';
import { register as registerProfile } from './profile.js';
import { register as registerVfio } from './vfio.js';
import { register as registerCompat } from './compat.js';
import { register as registerExplain } from './explain.js';
import { register as registerCompletion } from './completion.js';
import { register as registerMerge } from './merge.js';
import { register as registerPlan } from './plan.js';
import { addExamples } from './examples.js';

export function registerCommands(program: Command): void {
  registerRun(program);
  registerNvmeCommands(program);
  registerRegress(program);
  registerPlot(program);
  registerLab(program);
  registerDemo(program);
  registerDevices(program);
  registerDoctor(program);
  registerProfile(program);
  registerVfio(program);
  registerCompat(program);
  registerExplain(program);
  registerCompletion(program);
  registerMerge(program);
  registerPlan(program);
  addExamples(program);
}
