#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in ../dist (built by the root `prepare` script).
import { fileURLToPath } from 'node:url';

// The last resort: whatever escapes a command is still reported in the one shape, never a stack.
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

const { cli } = await import('../dist/main.js');
process.exitCode = await cli(argv);
