// Every signature the Debian tools can put on a device is refused before a write
// touches it (util-linux probing, not a table of our own), a device another
// process holds exclusively is refused (O_EXCL), and two write runs on one
// device never run at once. Loop devices only, each one detached afterwards.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, runCli, type CliResult } from '../cli.js';
import { attachedImages, attachLoop, digestHead, isRoot, requireTool, sh } from '../loop.js';

const MiB = 1024 * 1024;

interface SignatureCase {
  name: string;
  /** What the refusal must name: the type blkid/wipefs report. */
  reported: RegExp;
  tools: Array<[command: string, pkg: string]>;
  sizeBytes?: number;
  /** Put the signature on the image before it is attached. */
  onImage?: (image: string, dir: string) => void;
  /** Put the signature on the attached loop device. */
  onDevice?: (loop: string, dir: string) => void;
  cleanup?: (loop: string) => void;
}

const CASES: SignatureCase[] = [
  {
    name: 'ext4',
    reported: /ext4 \(filesystem, offset 0x438\)/,
    tools: [['mkfs.ext4', 'e2fsprogs']],
    onDevice: (loop) => sh('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', loop]),
  },
  // mkfs.xfs wants 300 MB, mkfs.btrfs over 100 MB: the images are sparse.
  { name: 'XFS', reported: /xfs \(filesystem/, tools: [['mkfs.xfs', 'xfsprogs']], sizeBytes: 512 * MiB, onDevice: (loop) => sh('mkfs.xfs', ['-f', '-q', loop]) },
  { name: 'btrfs', reported: /btrfs \(filesystem/, tools: [['mkfs.btrfs', 'btrfs-progs']], sizeBytes: 512 * MiB, onDevice: (loop) => sh('mkfs.btrfs', ['-f', '-q', loop]) },
  { name: 'FAT', reported: /vfat \(filesystem/, tools: [['mkfs.vfat', 'dosfstools']], onDevice: (loop) => sh('mkfs.vfat', [loop]) },
  { name: 'exFAT', reported: /exfat \(filesystem/, tools: [['mkfs.exfat', 'exfatprogs']], onDevice: (loop) => sh('mkfs.exfat', [loop]) },
  { name: 'f2fs', reported: /f2fs \(filesystem/, tools: [['mkfs.f2fs', 'f2fs-tools']], onDevice: (loop) => sh('mkfs.f2fs', ['-f', '-q', loop]) },
  { name: 'NTFS', reported: /ntfs \(filesystem/, tools: [['mkfs.ntfs', 'ntfs-3g']], onDevice: (loop) => sh('mkfs.ntfs', ['-Q', '-F', '-q', loop]) },
  { name: 'swap', reported: /swap \(other, offset 0xff6\)/, tools: [['mkswap', 'util-linux']], onDevice: (loop) => sh('mkswap', [loop]) },
  {
    name: 'LVM physical volume',
    reported: /LVM2_member \(raid/,
    tools: [['pvcreate', 'lvm2']],
    onDevice: (loop) => sh('pvcreate', ['-q', '-y', loop]),
    cleanup: (loop) => sh('pvremove', ['-q', '-y', '-ff', loop]),
  },
  {
    name: 'LUKS',
    reported: /crypto_LUKS \(crypto/,
    tools: [['cryptsetup', 'cryptsetup-bin']],
    onDevice: (loop, dir) => {
      const key = path.join(dir, 'key');
      fs.writeFileSync(key, 'not a secret');
      // Never opened, so there is nothing to close; a fast KDF keeps the test quick.
      sh('cryptsetup', ['luksFormat', '--batch-mode', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--key-file', key, loop]);
    },
  },
  {
    name: 'squashfs',
    reported: /squashfs \(filesystem, offset 0x0\)/,
    tools: [['mksquashfs', 'squashfs-tools']],
    onImage: (image, dir) => {
      const content = path.join(dir, 'content');
      fs.mkdirSync(content);
      fs.writeFileSync(path.join(content, 'precious.txt'), 'keep me');
      const squash = path.join(dir, 'fs.squashfs');
      sh('mksquashfs', [content, squash, '-quiet', '-noappend']);
      sh('dd', [`if=${squash}`, `of=${image}`, 'conv=notrunc', 'status=none']);
    },
  },
  {
    name: 'GPT partition table',
    reported: /gpt \(partition table, offsets 0x200, 0x3fffe00\); carries a signature: PMBR/,
    tools: [['sfdisk', 'fdisk']],
    onImage: (image) => sh('sfdisk', ['-q', image], { input: 'label: gpt\n,16M\n' }),
  },
  {
    name: 'DOS partition table',
    reported: /dos \(partition table, offset 0x1fe\)/,
    tools: [['sfdisk', 'fdisk']],
    onImage: (image) => sh('sfdisk', ['-q', image], { input: 'label: dos\n,16M,83\n' }),
  },
];

// Never skipped: without root every test here fails, this one saying why.
test('the signature tests run as root', () => {
  assert.ok(isRoot, 'run the tests as root: they attach loop devices');
});

for (const c of CASES) {
  test(`a device carrying ${c.name} is refused and unchanged until --force-destroy`, () => {
    for (const [command, pkg] of c.tools) requireTool(command, pkg);
    const dev = attachLoop(c.sizeBytes ?? 64 * MiB, { prepareImage: c.onImage ? (image) => c.onImage?.(image, path.dirname(image)) : undefined });
    try {
      c.onDevice?.(dev.loop, dev.dir);
      const before = digestHead(dev.loop, MiB);
      const refused = runCli(['randwrite', '--ios', '50', dev.loop]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, new RegExp(`refusing to write to ${dev.loop}: `));
      assert.match(refused.stderr, c.reported);
      // Not mounted: the fix is to wipe it (or --force-destroy), not to unmount it.
      assert.match(refused.stderr, new RegExp(`wipefs -a ${dev.loop}`));
      assert.match(refused.stderr, /--force-destroy/);
      assert.doesNotMatch(refused.stderr, /unmount/);
      assert.equal(digestHead(dev.loop, MiB), before, 'the refused run changed the device');

      const forced = runCli(['randwrite', '--ios', '50', '--quiet', '--force-destroy', dev.loop]);
      assert.equal(forced.code, 0, forced.stderr);
    } finally {
      try {
        if (dev.loop) c.cleanup?.(dev.loop);
      } catch {
        // the forced run may have overwritten the label already
      }
      dev.detach();
    }
  });
}

/** A child process that opens the device with O_EXCL, as a mount or device-mapper would, until killed. */
async function holdExclusively(dev: string): Promise<{ pid: number; release(): void }> {
  requireTool('python3', 'python3');
  const child = spawn('python3', ['-c', 'import os, sys, time\nfd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)\nprint("held", flush=True)\ntime.sleep(120)', dev], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const release = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('held')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the holder exited (${code}) before claiming ${dev}`)));
  });
  return { pid: child.pid ?? 0, release };
}

test('a device another process holds exclusively is refused, naming EBUSY, until --force-destroy', async () => {
  const dev = attachLoop(64 * MiB);
  let holder: { release(): void } | undefined;
  try {
    holder = await holdExclusively(dev.loop);
    const before = digestHead(dev.loop, MiB);
    const refused = runCli(['randwrite', '--ios', '50', dev.loop]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`refusing to write to ${dev.loop}: ${dev.loop} is held exclusively by another process \\(EBUSY\\)`));
    assert.match(refused.stderr, /--force-destroy/);
    assert.equal(digestHead(dev.loop, MiB), before);
    // Reads do not claim the device.
    const read = runCli(['randread', '--ios', '50', '--quiet', dev.loop]);
    assert.equal(read.code, 0, read.stderr);
    const forced = runCli(['randwrite', '--ios', '50', '--quiet', '--force-destroy', dev.loop]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /held exclusively by another process.*writing anyway/);
  } finally {
    holder?.release();
    dev.detach();
  }
});

function runCliAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('of two write runs started together on one device, one runs and the other is refused', async () => {
  const dev = attachLoop(64 * MiB);
  try {
    const args = ['randwrite', '--runtime', '3', '--quiet', dev.loop];
    const results = await Promise.all([runCliAsync(args), runCliAsync(args)]);
    const codes = results.map((r) => r.code).sort();
    assert.deepEqual(codes, [0, 2], results.map((r) => r.stderr).join('\n'));
    const refused = results.find((r) => r.code === 2);
    assert.match(refused?.stderr ?? '', /is held exclusively by another process \(EBUSY\)/);
    // The claim ends with the run: a third run now gets the device.
    const after = runCli(['randwrite', '--ios', '50', '--quiet', dev.loop]);
    assert.equal(after.code, 0, after.stderr);
  } finally {
    dev.detach();
  }
});

test('the loop devices these tests attached are all detached', () => {
  const attached = spawnSync('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE'], { encoding: 'utf8' }).stdout;
  assert.ok(attachedImages.length > 0);
  for (const image of attachedImages) assert.ok(!attached.includes(image), `${image} is still attached`);
});
