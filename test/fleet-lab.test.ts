// The fleet for real: two lab guests, each its own emulated NVMe, are the
// Ansible inventory, reached over SSH on loopback port forwards (lab
// --ssh-port: QEMU user networking, restrict=on, hostfwd on 127.0.0.1 only).
// Each guest runs the host's sshd (the guest's root is the host's, read-only)
// with a host key and an authorized key this test makes. ansible-playbook
// (Debian's ansible-core) runs deploy/ansible/fleet.yml with a tarball from
// npm pack; guest 2 is killed mid-run. Also in the inventory: a host nobody
// listens for (unreachable), and two more names for guest 1, one whose doctor
// fails (it is asked about a namespace the guest lacks) and one whose run names no
// target. merge must name every failed host and keep guest 1's results;
// regress compares the fleet file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { ROOT, csvRows, runCli } from './cli.js';

const BIN = path.join(ROOT, 'bin', 'nvmebench.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-fleet-'));
const labs: ChildProcess[] = [];
after(() => {
  for (const l of labs) if (l.exitCode === null && l.signalCode === null) l.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

const SSHD = `set -e
K=$(pwd)
D=/run/fleet-sshd
mkdir -p $D /run/sshd
chmod 755 /run/sshd
cp $K/hostkey $D/hostkey && chmod 600 $D/hostkey
cp $K/client.pub $D/authorized_keys && chmod 644 $D/authorized_keys
cat > $D/sshd_config <<CFG
Port 22
HostKey $D/hostkey
PidFile none
AuthorizedKeysFile $D/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
Subsystem sftp internal-sftp
CFG
# The host's root is the guest's: a ~/.bashrc that loads pyenv would cost a minute per ssh command under TCG.
R=$(awk -F: '$1=="root"{print $6}' /etc/passwd)
if [ -f "$R/.bashrc" ]; then : > $D/bashrc && mount --bind $D/bashrc "$R/.bashrc"; fi
exec /usr/sbin/sshd -D -e -f $D/sshd_config
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? dir, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

const SSH_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=20', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR'];
const ssh = (port: number, command: string) => run('ssh', ['-i', path.join(dir, 'client'), '-p', String(port), ...SSH_OPTS, 'root@127.0.0.1', command], { timeoutMs: 120_000 });

async function waitForSsh(port: number, lab: ChildProcess, name: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (lab.exitCode !== null) throw new Error(`${name}: the lab exited (${lab.exitCode}) before sshd answered:\n${log()}`);
    if ((await ssh(port, 'true')).code === 0) return;
    await new Promise((r) => setTimeout(r, 3000));
  }
  throw new Error(`${name}: no ssh on 127.0.0.1:${port} after 300 s:\n${log()}`);
}

function bootGuest(port: number, name: string): { lab: ChildProcess; log: () => string } {
  let out = '';
  const lab = spawn(process.execPath, [BIN, 'lab', '--ssh-port', String(port), '--timeout', '1200', '--exec', 'sh sshd.sh'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  lab.stdout!.on('data', (d) => (out += d));
  lab.stderr!.on('data', (d) => (out += d));
  labs.push(lab);
  return { lab, log: () => `${name}:\n${out.slice(-3000)}` };
}

test('fleet: ansible-playbook on two lab guests over loopback ssh; the killed guest and the failed hosts are named, the rest merged and regressed', { timeout: 1_200_000 }, async () => {
  const started = Date.now();
  for (const tool of ['ansible-playbook', '/usr/sbin/sshd', 'ssh-keygen', 'ssh']) {
    assert.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is missing: apt install ansible-core openssh-server openssh-client (.ci/run does)`);
  }
  for (const key of ['hostkey', 'client']) assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, key)]).status, 0);
  fs.writeFileSync(path.join(dir, 'sshd.sh'), SSHD);
  const [p1, p2, pGhost] = [await freePort(), await freePort(), await freePort()];
  const g1 = bootGuest(p1, 'guest 1');
  const g2 = bootGuest(p2, 'guest 2');
  // The tarball a user makes on the controller (dist/ and the addon built already: no prepare).
  const pack = run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
  await Promise.all([waitForSsh(p1, g1.lab, 'guest 1', g1.log), waitForSsh(p2, g2.lab, 'guest 2', g2.log)]);
  const packed = await pack;
  assert.equal(packed.code, 0, packed.stderr);
  const tarball = path.join(dir, packed.stdout.trim().split('\n').pop()!);
  const booted = Date.now();

  const common = `ansible_host=127.0.0.1 ansible_user=root`;
  const small = 'randread --engine psync,uring --bs 4k --qd 4 --ios 2000 --repeat 2 /dev/nvme0n1';
  // g1 runs a plan (the role's default): the same runs, its target named by role, not by node.
  const plan = path.join(dir, 'plan.json');
  fs.writeFileSync(plan, JSON.stringify({ planVersion: 1, runs: [{ name: 'small', workload: 'randread', targets: 'all-nvme', options: { engine: ['psync', 'uring'], bs: '4k', qd: 4, ios: 2000, repeat: 2 } }] }));
  fs.writeFileSync(
    path.join(dir, 'inventory.ini'),
    [
      '[fleet]',
      `g1 ${common} ansible_port=${p1}`,
      `g2 ${common} ansible_port=${p2} nvmebench_args="randread --engine psync --runtime 300 /dev/nvme0n1"`,
      `g1-doctor ${common} ansible_port=${p1} nvmebench_doctor_args="/dev/ng9n9" nvmebench_args="${small}"`,
      `g1-notarget ${common} ansible_port=${p1} nvmebench_args="randread --engine psync --ios 100 /dev/ng9n9"`,
      `ghost ${common} ansible_port=${pGhost}`,
      '[fleet:vars]',
      `ansible_ssh_private_key_file=${path.join(dir, 'client')}`,
      `ansible_ssh_common_args='${SSH_OPTS.join(' ')}'`,
      'ansible_python_interpreter=/usr/bin/python3',
      // The guests' root is read-only: nvmebench unpacks into their tmpfs.
      'nvmebench_remote_root=/tmp/nvmebench-fleet',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, ANSIBLE_CONFIG: path.join(ROOT, 'deploy', 'ansible', 'ansible.cfg'), ANSIBLE_LOCAL_TEMP: path.join(dir, '.ansible-tmp'), ANSIBLE_NOCOLOR: '1' };
  const results = path.join(dir, 'results');
  const playbook = run('ansible-playbook', ['-i', 'inventory.ini', path.join(ROOT, 'deploy', 'ansible', 'fleet.yml'), '-e', `nvmebench_tarball=${tarball}`, '-e', `nvmebench_results_dir=${results}`, '-e', 'fleet_run_id=ci-fleet', '-e', `nvmebench_plan=${plan}`], { env, timeoutMs: 900_000 });
  // Guest 2 is killed once its run has begun (its status says running; the run lasts 300 s).
  const g2Status = path.join(results, 'ci-fleet', 'g2', 'fleet-status.json');
  let killedAt = 0;
  while (Date.now() - booted < 900_000) {
    const stage = fs.existsSync(g2Status) ? (JSON.parse(fs.readFileSync(g2Status, 'utf8')) as { stage: string }).stage : '';
    if (stage === 'running') {
      await new Promise((r) => setTimeout(r, 10_000));
      g2.lab.kill('SIGKILL'); // QEMU goes with it (the lab starts it with a parent-death signal)
      killedAt = Date.now();
      break;
    }
    if (stage === 'done' || g2.lab.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  const play = await playbook;
  assert.ok(killedAt > 0, `guest 2 never reached its run:\n${play.stdout.slice(-4000)}`);
  assert.notEqual(play.code, 0, 'ansible-playbook reports the failed hosts');
  assert.match(play.stdout, /g1\s+: ok=\d+ .*failed=0/, play.stdout.slice(-3000));

  // Nothing left on guest 1 (the user kept nothing).
  const left = await ssh(p1, 'ls -A /tmp/nvmebench-fleet 2>/dev/null | wc -l');
  assert.equal(left.stdout.trim(), '0', `left on guest 1: ${left.stdout}${left.stderr}`);

  const fleetCsv = path.join(dir, 'fleet.csv');
  const merged = runCli(['merge', path.join(results, 'ci-fleet'), '-o', fleetCsv]);
  assert.equal(merged.code, 1, `merge exits 1 when hosts failed:\n${merged.stdout}\n${merged.stderr}`);
  const out = merged.stdout;
  assert.match(out, /fleet: 1 of 5 hosts finished; 4 did not/);
  assert.match(out, /^host g2: lost during the run: the host stopped answering/m);
  assert.match(out, /^host ghost: lost while installing: the host stopped answering/m);
  assert.match(out, /^host g1-doctor: doctor failed: \/dev\/ng9n9 does not exist/m);
  assert.match(out, /^host g1-notarget: no target: .*ng9n9/m);
  assert.match(out, /QEMU NVMe Ctrl/);
  const rows = csvRows(fs.readFileSync(fleetCsv, 'utf8'));
  assert.ok(rows.length >= 4, `g1's records kept: ${rows.length}`);
  assert.deepEqual([...new Set(rows.map((r) => r.hostname))], ['g1'], 'the inventory name, not the guest\'s hostname');
  assert.deepEqual([...new Set(rows.map((r) => r.fleet_run_id))], ['ci-fleet']);
  assert.ok(rows.every((r) => r.status === 'ok' && Number(r.iops) > 0));
  assert.deepEqual([...new Set(rows.map((r) => r.plan_entry))], ['small'], 'g1 ran the plan');

  const regress = runCli(['regress', fleetCsv, fleetCsv]);
  assert.equal(regress.code, 0, regress.stderr);
  assert.match(regress.stdout, /fleet: 1 host in .*fleet\.csv, 1 in/);
  assert.match(regress.stdout, /randread psync 4k QD 1 .*fw \S+ .*unchanged/);
  assert.match(regress.stdout, /0 regressions/);
  process.stdout.write(`# fleet lab: ${Math.round((Date.now() - started) / 1000)}s in all (guests up and tarball packed ${Math.round((booted - started) / 1000)}s, guest 2 killed at ${Math.round((killedAt - started) / 1000)}s, playbook, merge and regress ${Math.round((Date.now() - booted) / 1000)}s)\n`);
});
