// A large results CSV for the memory test, and the child that reads one.
//   node dist/test/big-csv.js write FILE ROWS
//   node dist/test/big-csv.js read FILE [READ_MODULE]   → one JSON line: rows, ms, maxRssMb
//   node dist/test/big-csv.js stream FILE                → the same, the records handed on, not kept
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

async function readInChild(file: string, module: string, stream: boolean): Promise<void> {
  type Read = (f: string, opts?: { onRecord?: () => void }) => unknown;
  const { readResultsFile } = (await import(pathToFileURL(module).href)) as { readResultsFile: Read };
  const start = performance.now();
  let rows = 0;
  const results = (await readResultsFile(file, stream ? { onRecord: () => rows++ } : {})) as { records: unknown[] };
  rows += results.records.length;
  const ms = Math.round(performance.now() - start);
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(JSON.stringify({ rows, ms, maxRssMb }) + '\n');
}

const [, script, verb, file, arg] = process.argv;
if (script && import.meta.url === pathToFileURL(script).href) {
  if (verb === 'write') writeBigCsv(file!, Number(arg));
  else if (verb === 'read' || verb === 'stream') await readInChild(file!, arg ?? new URL('../src/export/read.js', import.meta.url).pathname, verb === 'stream');
}
