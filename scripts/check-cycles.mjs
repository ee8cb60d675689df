#!/usr/bin/env node
// The import graph of src/: fails on any import cycle, and on a lower folder
// importing a higher one (target/ and system/ sit under everything that
// decides or runs). Reads `from './x.js'` in src/**/*.ts, type imports too.
// node scripts/check-cycles.mjs [--json]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');

/** Folders each folder must not import from. */
const ABOVE_LOW = ['engines', 'inventory', 'plan', 'run', 'output', 'export', 'commands'];
const FORBIDDEN = { system: ['native', 'target', ...ABOVE_LOW], target: ABOVE_LOW };

function tsFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const rel = (file) => path.relative(src, file).split(path.sep).join('/');
const graph = new Map();
for (const file of tsFiles(src)) {
  const text = fs.readFileSync(file, 'utf8');
  const deps = [...text.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)\.js'/g)].map((m) => rel(path.resolve(path.dirname(file), m[1] + '.ts')));
  graph.set(rel(file), [...new Set(deps)]);
}

// Tarjan's strongly connected components: every component of two or more files is a cycle.
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
let counter = 0;
function visit(v) {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) !== index.get(v)) return;
  const component = [];
  let w;
  do {
    w = stack.pop();
    onStack.delete(w);
    component.push(w);
  } while (w !== v);
  if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
}
for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);

const folder = (file) => (file.includes('/') ? file.split('/')[0] : '');
const violations = [];
for (const [file, deps] of graph) {
  const banned = FORBIDDEN[folder(file)] ?? [];
  for (const dep of deps) if (banned.includes(folder(dep))) violations.push(`${file} imports ${dep}`);
}

if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify({ cycles, violations }, null, 2) + '\n');
} else {
  for (const c of cycles) process.stdout.write(`cycle among: ${c.join(', ')}\n`);
  for (const v of violations) process.stdout.write(`layering: ${v}\n`);
  if (!cycles.length && !violations.length) process.stdout.write(`${graph.size} files, no import cycle, layering holds\n`);
}
process.exit(cycles.length || violations.length ? 1 : 0);
