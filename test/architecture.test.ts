// The tree's shape: no import cycle in src/, the lower folders (system/,
// target/) import nothing that decides or runs, and no file grows past what a
// reader takes in at once. scripts/check-cycles.mjs does the graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAX_LINES = 400;

function importGraph(): { cycles: string[][]; violations: string[] } {
  const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'check-cycles.mjs'), '--json'], { encoding: 'utf8' });
  assert.ok(run.stdout, `check-cycles printed nothing: ${run.stderr}`);
  return JSON.parse(run.stdout) as { cycles: string[][]; violations: string[] };
}

test('no import cycle in src/', () => {
  assert.deepEqual(importGraph().cycles, []);
});

test('system/ and target/ import nothing from the folders above them', () => {
  const upward = importGraph().violations.filter((v) => /^(system|target)\//.test(v));
  assert.deepEqual(upward, []);
});

test('no file in src/ is above 400 lines', () => {
  const long: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const lines = fs.readFileSync(p, 'utf8').split('\n').length - 1;
        if (lines > MAX_LINES) long.push(`${path.relative(root, p)}: ${lines} lines`);
      }
    }
  };
  walk(path.join(root, 'src'));
  assert.deepEqual(long, []);
});
