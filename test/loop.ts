// Loop devices for the tests that need a real block device (as root, as CI runs).
// Nothing here touches a device node other than the loop devices it attaches.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const isRoot = process.getuid?.() === 0;

const SBIN_PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

export function sh(cmd: string, args: string[], opts: { input?: string } = {}): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    input: opts.input,
    stdio: ['pipe', 'pipe', 'pipe'],
    // LVM warns about every descriptor node's test runner leaves open.
    env: { ...process.env, PATH: SBIN_PATH, LVM_SUPPRESS_FD_WARNINGS: '1' },
  }).trim();
}

/** A tool the test needs: missing, the test fails naming the Debian package (never skips). */
export function requireTool(cmd: string, pkg: string): void {
  const found = SBIN_PATH.split(':').some((dir) => dir && fs.existsSync(path.join(dir, cmd)));
  assert.ok(found, `${cmd} is not installed: apt-get install ${pkg} (.ci/run installs it)`);
}

export function digestHead(dev: string, bytes = 4 * 1024 * 1024): string {
  const fd = fs.openSync(dev, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const got = fs.readSync(fd, buf, 0, bytes, 0);
    return crypto.createHash('sha256').update(buf.subarray(0, got)).digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

/** Every image attachLoop made in this process, so a test can check none is still attached. */
export const attachedImages: string[] = [];

export interface LoopDevice {
  dir: string;
  image: string;
  loop: string;
  /** Detach the loop device and remove the image; safe to call twice. */
  detach(): void;
}

/**
 * A sparse image of sizeBytes attached to a fresh loop device. prepareImage runs on the
 * image before it is attached (partition tables: sfdisk cannot re-read a loop device's).
 */
export function attachLoop(sizeBytes: number, opts: { directIo?: boolean; prepareImage?: (image: string) => void } = {}): LoopDevice {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-loop-'));
  const image = path.join(dir, 'disk.img');
  let loop = '';
  const detach = () => {
    if (loop) {
      try {
        sh('losetup', ['-d', loop]);
      } catch {
        // already detached
      }
      loop = '';
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    fs.writeFileSync(image, Buffer.alloc(0));
    fs.truncateSync(image, sizeBytes);
    opts.prepareImage?.(image);
    loop = sh('losetup', ['--find', '--show', ...(opts.directIo ? ['--direct-io=on'] : []), image]);
    attachedImages.push(image);
  } catch (err) {
    detach();
    throw err;
  }
  return {
    dir,
    image,
    get loop() {
      return loop;
    },
    detach,
  };
}
