// The matrix as a table: rows engine × workload, a column per kernel, cells
// ✓, "refused [n]" or "failed [n]" with the reasons numbered under the table
// (they are long, and many cells share one). The terminal gets box drawing,
// --md a Markdown table that pastes into a mailing-list post or a README.
import { drawTable } from '../output/render.js';
import { markdownTable } from '../export/markdown.js';
import type { CompatCell, CompatMatrix } from './matrix.js';

interface Laid {
  headers: string[];
  rows: string[][];
  notes: string[];
}

function kernelHeader(k: CompatMatrix['kernels'][number]): string {
  return k.release && !k.release.startsWith(k.spec + '.') && k.release !== k.spec ? `${k.spec} (${k.release})` : k.release || k.spec;
}

function lay(m: CompatMatrix): Laid {
  const notes: string[] = [];
  const noteOf = new Map<string, number>();
  const text = (c: CompatCell): string => {
    if (c.state === 'ok') return '✓';
    if (c.state === 'n/a') return '–';
    const key = `${c.state}: ${c.detail}`;
    let n = noteOf.get(key);
    if (n === undefined) {
      notes.push(c.detail);
      n = notes.length;
      noteOf.set(key, n);
    }
    return `${c.state} [${n}]`;
  };
  return {
    headers: ['engine', 'workload', ...m.kernels.map(kernelHeader)],
    rows: m.rows.map((r) => [r.engine, r.workload, ...m.kernels.map((k) => text(r.cells[k.spec]))]),
    notes,
  };
}

function noteLines(notes: string[]): string[] {
  return notes.map((n, i) => `[${i + 1}] ${n}`);
}

export function renderCompatTable(m: CompatMatrix): string {
  const t = lay(m);
  return `${drawTable({ headers: t.headers, rows: t.rows, align: [] })}\n${noteLines(t.notes).join('\n')}\n`;
}

export function renderCompatMarkdown(m: CompatMatrix): string {
  const t = lay(m);
  const legend = '✓ ran and verified; refused: nvmebench declined before running, for the reason given; failed: it ran and the kernel or the device failed it; – not applicable in the lab.';
  const kernels = m.kernels.map((k) => `${k.spec}: Linux ${k.release}`).join('; ');
  return [
    `**Which path works on which kernel** (nvmebench compat, emulated NVMe in the lab; ${kernels})`,
    '',
    markdownTable(t.headers, t.rows),
    '',
    legend,
    '',
    ...noteLines(t.notes).map((l) => `${l}  `),
    '',
  ].join('\n');
}
