// Two or three real command lines at the end of every command's --help, as in
// the README. test/help-examples.test.ts parses each one with the program's
// own option parser, so an example that names a lost option fails the tests.
import type { Command } from 'commander';

export const EXAMPLES: Record<string, string[]> = {
  // nvmebench --help: the program as a whole.
  '': ['nvmebench randread --engine all --qd 1,32 /dev/ng0n1', 'nvmebench demo', 'nvmebench doctor /dev/ng0n1'],
  randread: [
    'nvmebench randread --qd 128 /dev/ng1n1',
    'nvmebench randread --engine uring,uring-poll --qd 8,64,256 --bs 512 /dev/nvme0n1 --csv results/run.csv',
    'nvmebench randread --engine uring,pt --qd 1,32 --repeat 5 --csv base.csv /dev/ng0n1',
  ],
  plan: ['nvmebench plan validate plan.json', 'nvmebench plan run plan.json --csv results/plan.csv --json results/plan.json'],
  'plan run': ['nvmebench plan run plan.json --csv results/plan.csv', 'nvmebench plan run profiles/seed001-kiops.json /dev/ng0n1 --runtime 2'],
  'plan validate': ['nvmebench plan validate plan.json', 'nvmebench plan validate plan.json --runtime 2'],
  'plan show': ['nvmebench plan show plan.json', 'nvmebench plan show plan.json /dev/ng1n1'],
  randwrite: [
    'nvmebench randwrite --engine uring --size 1g --verify ./scratch.dat',
    'nvmebench randwrite --engine pt,uring --qd 32 --runtime 5 /dev/ng0n1 --force-destroy',
    'nvmebench randwrite --job name=writer,engine=uring,qd=32,size=1g --job name=reader,workload=randread,engine=pt-poll,qd=1,offset=1g,size=1g /dev/ng0n1 --force-destroy',
  ],
  read: ['nvmebench read --bs 128k --qd 16 /dev/ng0n1', 'nvmebench read --engine psync,aio,uring --bs 1m --ios 10000 ./scratch.dat'],
  write: ['nvmebench write --bs 128k --qd 16 --verify ./scratch.dat', 'nvmebench write --engine pt --bs 64k /dev/ng0n1 --force-destroy'],
  randrw: ['nvmebench randrw --rwmix-read 70 --threads 4 --cpus 0-3 /dev/nvme0n1 --force-destroy', 'nvmebench randrw --engine uring,pt --qd 32 --repeat 3 ./scratch.dat'],
  rw: ['nvmebench rw --rwmix-read 50 --bs 64k ./scratch.dat', 'nvmebench rw --engine pt --bs 128k --qd 8 /dev/ng0n1 --force-destroy'],
  'write-zeroes': ['nvmebench write-zeroes --engine pt,ioctl,uring --verify /dev/ng0n1', 'nvmebench write-zeroes --engine psync --qd 1 ./scratch.dat'],
  trim: ['nvmebench trim --engine pt,ioctl /dev/ng0n1', 'nvmebench trim --engine psync,uring /dev/nvme0n1 --force-destroy'],
  verify: ['nvmebench verify --engine pt,ioctl /dev/ng0n1', 'nvmebench verify --engine pt --qd 1,32 --runtime 5 /dev/ng0n1'],
  compare: ['nvmebench compare --engine pt --size 64m /dev/ng0n1', 'nvmebench compare --engine pt,ioctl --qd 1,16 /dev/ng0n1'],
  flush: ['nvmebench flush --engine pt,psync,uring /dev/nvme0n1', 'nvmebench flush --engine psync ./scratch.dat'],
  copy: ['nvmebench copy --copy-ranges 4 --verify /dev/ng0n1', 'nvmebench copy --engine pt --copy-ranges 1 --qd 1,8 /dev/ng0n1'],
  'zone-append': ['nvmebench zone-append --zones 4 --verify /dev/ng0n2', 'nvmebench zone-append --engine pt --zones 2 --qd 8 /dev/ng0n2'],
  raw: ['nvmebench raw --opcode 0x02 --cdw10 8 --cdw12 0 --data-len 512 --read --dump lba8.bin /dev/ng0n1', 'nvmebench raw --opcode 0x00 --engine pt,ioctl /dev/ng0n1'],
  regress: [
    'nvmebench regress base.csv new.csv',
    'nvmebench regress base.csv new.csv --threshold 5% --metric iops,lat_p99_us,cpu_ns_per_io --md delta.md',
  ],
  plot: ['nvmebench plot new.csv -o iops.svg', 'nvmebench plot run.json --latency -o lat.svg'],
  lab: [
    'nvmebench lab -- randread --engine all --qd 1,16 /dev/ng0n1 --csv results/lab.csv',
    'nvmebench lab --controllers 2 --namespaces 2 --lba-size 4096 --vfio -- devices',
    'nvmebench lab --kernel 6.12 -- devices',
  ],
  compat: ['nvmebench compat', 'nvmebench compat --kernel 6.12 --md compat.md', 'nvmebench compat --kernel 6.1,linux-image-6.12.95+deb12-amd64 --json compat.json'],
  explain: ['nvmebench explain run.json --baseline uring-poll --engine pt-poll', 'nvmebench explain results/seed003.json --baseline uring --engine pt'],
  demo: ['nvmebench demo', 'nvmebench demo --csv results/demo.csv'],
  devices: ['nvmebench devices', 'nvmebench devices --json'],
  doctor: ['nvmebench doctor', 'nvmebench doctor /dev/ng0n1', 'nvmebench doctor --engine pt-poll /dev/ng0n1'],
  profile: ['nvmebench profile --list', 'nvmebench profile seed001-kiops /dev/ng0n1', 'nvmebench profile seed001-kiops /dev/ng0n1 --runtime 5'],
  vfio: ['sudo nvmebench vfio bind 0000:00:04.0', 'nvmebench vfio status'],
  'vfio bind': ['sudo nvmebench vfio bind 0000:00:04.0', 'sudo nvmebench vfio bind /dev/nvme1'],
  'vfio unbind': ['sudo nvmebench vfio unbind 0000:00:04.0', 'sudo nvmebench vfio unbind /dev/nvme1'],
  'vfio status': ['nvmebench vfio status', 'nvmebench vfio status --json'],
  merge: ['nvmebench merge results/fleet-1/ -o fleet.csv', 'nvmebench merge results/fleet-1/ -o fleet.csv --json fleet.json --outlier 10% --fail-on-outliers'],
  completion: ['source <(nvmebench completion bash)', 'nvmebench completion fish > ~/.config/fish/completions/nvmebench.fish'],
};

/** The command's path under the root: "vfio bind". */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The nvmebench argv of an example line: past sudo and shell syntax, split on spaces, quotes kept together. */
export function exampleArgv(line: string): string[] {
  const inner = /<\((.*)\)/.exec(line)?.[1] ?? line.split(/\s+[|>]\s+/)[0];
  const words: string[] = inner.match(/"[^"]*"|\S+/g) ?? [];
  const at = words.indexOf('nvmebench');
  return words.slice(at + 1).map((w) => w.replace(/^"(.*)"$/, '$1'));
}

/** Append an Examples section to the help of every command that has examples. */
export function addExamples(program: Command): void {
  const visit = (cmd: Command): void => {
    const lines = EXAMPLES[commandPath(cmd)];
    if (lines) cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`);
    cmd.commands.forEach(visit);
  };
  visit(program);
}
