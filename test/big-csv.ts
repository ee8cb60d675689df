// A large results CSV for the memory test, and the child that reads one.
//   node dist/test/big-csv.js write FILE ROWS
//   node dist/test/big-csv.js read FILE [READ_MODULE]   → one JSON line: rows, ms, maxRssMb
// READ_MODULE is the compiled src/export/read.js to use (another checkout's, to compare).
import { closeSync, openSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { csvHeaderLine, recordToCsvLine } from '../src/export/csv.js';
import { makeRecord } from './fixtures.js';
import type { EngineName } from '../src/model.js';

const ENGINES: EngineName[] = ['uring', 'uring-poll', 'pt', 'pt-poll', 'psync', 'aio'];

/** ROWS rows: 1000 distinct ones (engines, depths, figures), written over and over, 4 MiB at a time. */
export function writeBigCsv(file: string, rows: number): void {
  const distinct = Array.from({ length: 1000 }, (_, i) =>
    recordToCsvLine(
      makeRecord({
        engine: ENGINES[i % ENGINES.length],
        ioDepth: 2 ** (i % 8),
        repeat: i % 5,
        iops: 100_000 + i * 37.25,
        errorMessage: i % 97 === 0 ? 'a "quoted", multi\nline message' : '',
      }),
    ),
  );
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, csvHeaderLine());
    let chunk = '';
    for (let i = 0; i < rows; i++) {
      chunk += distinct[i % distinct.length];
      if (chunk.length > 4 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

async function readInChild(file: string, module: string): Promise<void> {
  const { readResultsFile } = (await import(pathToFileURL(module).href)) as { readResultsFile: (f: string) => unknown };
  const start = performance.now();
  const results = (await readResultsFile(file)) as { records: unknown[] };
  const ms = Math.round(performance.now() - start);
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(JSON.stringify({ rows: results.records.length, ms, maxRssMb }) + '\n');
}

const [, script, verb, file, arg] = process.argv;
if (script && import.meta.url === pathToFileURL(script).href) {
  if (verb === 'write') writeBigCsv(file!, Number(arg));
  else if (verb === 'read') await readInChild(file!, arg ?? new URL('../src/export/read.js', import.meta.url).pathname);
}
