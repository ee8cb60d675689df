#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (npm install runs tsc).
import { main, reportError } from '../dist/src/cli.js';

// A reader that goes away (nvmebench ... | head) is not an error worth a trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// An exception that escapes main (a callback, a stream) is a bug too: exit 70, never 1.
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (err) => process.exit(reportError(err)));
}

process.exitCode = await main(process.argv);
