#!/usr/bin/env node
// Thin launcher: the compiled CLI is ../dist, bundled into ../dist/bundle (both made by `npm ci`).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The last resort: whatever escapes a command is still reported in the one shape, never a stack.
/** @param {any} e */
const lastResort = (e) => {
  const message = String(e?.message ?? e).split('\n')[0];
  process.stderr.write(`envelope: ENVELOPE_INTERNAL: ${message}\n`);
  process.exit(1);
};
process.on('uncaughtException', lastResort);
process.on('unhandledRejection', lastResort);

const REVERT = '--security-revert=CVE-2023-46809';
// The AWS SDK warns on Node 20 about its future releases; it is noise in a CLI's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const argv = process.argv.slice(2);

// Conformance vectors include RSA PKCS#1 v1.5 messages, which Node 20 decrypts only with the
// security revert flag; the test-vectors command re-runs itself with it. Nothing else does.
// child_process (with net and dgram behind it) is loaded only then: 5-8 ms of every start-up.
if (argv[0] === 'test-vectors' && !process.execArgv.includes(REVERT) && !process.env.ENVELOPE_NO_PKCS1_REVERT) {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [REVERT, ...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, ENVELOPE_NO_PKCS1_REVERT: '1' },
  });
  process.exit(r.status ?? 1);
}

/**
 * The bundle (dist/bundle, made by scripts/bundle.mjs) while every @envelope package it was made
 * from is unchanged since, else the modules in dist/ themselves: a `tsc -b` without a re-bundle
 * must never run stale code. A package stands for its dist/.tsbuildinfo, which tsc -b rewrites
 * whenever it rebuilds the package: unchanged if it has the same size and is not newer (one stat),
 * or, when newer (a build tool restoring a cached dist/ touches every file), has the same SHA-256.
 * The usual check is one small read and 9 stats (0.3 ms); the bundle saves 60-150 ms of module
 * loading (docs/benchmarks.md, issue 16).
 */
async function freshBundle() {
  const dir = fileURLToPath(new URL('../dist/bundle/', import.meta.url));
  try {
    const { inputs } = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    for (const [file, size, mtimeMs, sha256] of inputs) {
      const at = path.join(dir, file);
      const st = statSync(at, { throwIfNoEntry: false });
      if (st === undefined || st.size !== size) return false;
      if (st.mtimeMs > mtimeMs) {
        const { createHash } = await import('node:crypto');
        if (createHash('sha256').update(readFileSync(at)).digest('hex') !== sha256) return false;
      }
    }
    return inputs.length > 0;
  } catch {
    return false;
  }
}

const { cli } = await import((await freshBundle()) ? '../dist/bundle/main.js' : '../dist/main.js');
process.exitCode = await cli(argv);
