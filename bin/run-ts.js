#!/usr/bin/env node
// Runs one TypeScript entry point (benchmarks, scripts): `node bin/run-ts.js FILE.ts ARGS...`.
import './register-ts.mjs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [file, ...rest] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bin/run-ts.js FILE.ts [ARGS...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(file), ...rest];
await import(pathToFileURL(resolve(file)).href);
