#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in ../dist (built by the root `prepare` script).
import { main } from '../dist/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`envelope: ${err?.stack ?? err}\n`); process.exitCode = 1; },
);
