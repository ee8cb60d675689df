// The tree's shape: no import cycle in src/, no folder imports from one ranked
// above it (the order is LAYERS in scripts/check-cycles.mjs, and README's
// Layout), and no file grows past what a reader takes in at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAX_LINES = 400;

interface ImportGraph {
  layers: string[];
  cycles: string[][];
  violations: string[];
  unranked: string[];
}

function importGraph(src?: string): ImportGraph {
  const args = [path.join(root, 'scripts', 'check-cycles.mjs'), '--json', ...(src ? ['--src', src] : [])];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.ok(run.stdout, `check-cycles printed nothing: ${run.stderr}`);
  return JSON.parse(run.stdout) as ImportGraph;
}

test('no import cycle in src/', () => {
  assert.deepEqual(importGraph().cycles, []);
});

test('system/ and target/ import nothing from the folders above them', () => {
  const upward = importGraph().violations.filter((v) => /^(system|target)\//.test(v));
  assert.deepEqual(upward, []);
});

test('every folder in src/ has a layer, and none imports from a layer above it', () => {
  const graph = importGraph();
  assert.deepEqual(graph.unranked, []);
  assert.deepEqual(graph.violations, []);
  const folders = fs.readdirSync(path.join(root, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(folders.filter((f) => !graph.layers.includes(f)), []);
});

test('the layer check fails when a lower folder imports a higher one', () => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'nvmebench-layers-'));
  try {
    fs.mkdirSync(path.join(src, 'inventory'));
    fs.mkdirSync(path.join(src, 'plan'));
    fs.writeFileSync(path.join(src, 'plan', 'units.ts'), 'export const one = 1;\n');
    fs.writeFileSync(path.join(src, 'inventory', 'doctor-checks.ts'), "import { one } from '../plan/units.js';\nexport const two = one + 1;\n");
    fs.mkdirSync(path.join(src, 'mystery'));
    fs.writeFileSync(path.join(src, 'mystery', 'x.ts'), 'export {};\n');
    const graph = importGraph(src);
    assert.deepEqual(graph.violations, ['inventory/doctor-checks.ts imports plan/units.ts']);
    assert.deepEqual(graph.unranked, ['mystery']);
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
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
