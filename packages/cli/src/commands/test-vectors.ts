/** `envelope test-vectors MANIFEST…`: runs public AWS Encryption SDK decrypt manifests. */
import { parseArgs } from 'node:util';
import { UsageError, type CliIo } from '../io.js';
import { resultLine, runManifests, skipReasonLines, summaryLine } from '../test-vectors/index.js';

export const TEST_VECTORS_HELP = `Usage: envelope test-vectors MANIFEST... [--verbose] [--json] [--concurrency N]

Runs AWS Encryption SDK decrypt test-vector manifests (awses-decrypt v1-v5, with keys manifests
v1-v3, as specified by the aws-crypto-tools-test-vector-framework). Positive tests must decrypt
(one-shot and streaming) to exactly the expected plaintext; negative tests must fail with a coded
error (anything else is a failure of ours). Tests that need AWS KMS, and RSA PKCS#1 v1.5 tests
when Node refuses PKCS#1 v1.5 (Node 20 without --security-revert=CVE-2023-46809), are skipped
with the reason; the envelope launcher adds that flag for this command.

Prints one line per failed test ("FAIL set/id: reason"), the skip reasons grouped
("skipped 12: needs AWS KMS"), and as the last line "N passed, N failed, N skipped".
Exit code 1 when any test failed (or a manifest could not be loaded), else 0.

Options:
  -v, --verbose        also print a line for every passed and skipped test
      --json           print the report as one line of JSON (before the last line)
      --concurrency N  tests in flight at once (default 4)
  -h, --help           show this help

Examples:
  npx envelope test-vectors ../shared/vectors/*/manifest.json
  npx envelope test-vectors --verbose vectors/v5/manifest.json
  npx envelope test-vectors --json vectors/manifest.json | head -1 | jq '.results[] | select(.status=="failed")'
`;

/** Runs the command; returns the exit code. */
export async function testVectorsCommand(argv: string[], io: Pick<CliIo, 'stdout' | 'stderr'>): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      verbose: { type: 'boolean', short: 'v' },
      json: { type: 'boolean' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(TEST_VECTORS_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('give one or more decrypt manifest files (see "envelope test-vectors --help")');
  let concurrency = 4;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
      throw new UsageError('--concurrency expects an integer from 1 to 256');
  }
  const report = await runManifests(positionals, {
    concurrency,
    onResult: (r) => {
      if (values.json) return;
      if (r.status === 'failed' || values.verbose) io.stdout.write(`${resultLine(r)}\n`);
    },
  });
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ passed: report.passed, failed: report.failed, skipped: report.skipped, manifests: report.manifests, results: report.results })}\n`,
    );
  } else {
    for (const line of skipReasonLines(report.results)) io.stdout.write(`${line}\n`);
  }
  io.stdout.write(`${summaryLine(report)}\n`);
  return report.failed > 0 ? 1 : 0;
}
