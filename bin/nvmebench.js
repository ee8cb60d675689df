#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (npm install runs tsc).
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv);
