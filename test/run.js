#!/usr/bin/env node
// npm test: node's built-in runner over the compiled tests in dist/test.
// Files run one at a time: the lab tests boot QEMU and the machine is small.
// NVMEBENCH_TEST_FILTER=regex runs a subset, e.g. NVMEBENCH_TEST_FILTER=unit.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'dist', 'test');
const filter = process.env.NVMEBENCH_TEST_FILTER ? new RegExp(process.env.NVMEBENCH_TEST_FILTER) : null;
// test/*.test.ts and the hostile suite, test/hostile/*.test.ts.
const files = ['', 'hostile']
  .flatMap((sub) => {
    const d = path.join(dir, sub);
    if (!fs.existsSync(d)) return [];
    return fs
      .readdirSync(d)
      .filter((f) => f.endsWith('.test.js'))
      .map((f) => path.join(sub, f));
  })
  .filter((f) => !filter || filter.test(f))
  .sort()
  .map((f) => path.join(dir, f));
if (!files.length) {
  console.error('no test files found in dist/test (did tsc run?)');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
