/** `envelope test-vectors MANIFEST…`: run public AWS Encryption SDK decrypt manifests. */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { UsageError, type CliIo } from '../io.js';
import { runManifests, summaryLine, type TestResult } from '../test-vectors/index.js';

export const TEST_VECTORS_HELP = `Usage: envelope test-vectors MANIFEST... [--verbose] [--json]

Runs AWS Encryption SDK decrypt test-vector manifests (awses-decrypt v1–v5 with keys manifests
v1–v3): positive tests must decrypt (buffer and streaming APIs) to the expected plaintext,
negative tests must fail with a coded error. Tests needing AWS KMS are skipped, with the reason.
The last line is "N passed, N failed, N skipped"; the exit code is 1 if any failed.
RSA PKCS#1 v1.5 tests need Node's --security-revert=CVE-2023-46809; the envelope launcher adds it.

Examples:
  npx envelope test-vectors ../shared/vectors/*/manifest.json
  npx envelope test-vectors --verbose vectors/manifest.json
`;

export async function testVectorsCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { verbose: { type: 'boolean', short: 'v' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(TEST_VECTORS_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('give one or more manifest files');
  const files = positionals.map((p) => path.resolve(p));
  const report = await runManifests(files, {
    onResult: (r: TestResult) => {
      if (values.json) return;
      if (r.status === 'failed') io.stdout.write(`FAIL ${path.basename(path.dirname(r.manifest))}/${r.id}: ${r.reason}\n`);
      else if (values.verbose) io.stdout.write(`${r.status === 'passed' ? 'ok  ' : 'skip'} ${path.basename(path.dirname(r.manifest))}/${r.id}${r.reason ? `: ${r.reason}` : ''}\n`);
    },
  });
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ passed: report.passed, failed: report.failed, skipped: report.skipped, results: report.results }, null, 2)}\n`);
  } else {
    const reasons = new Map<string, number>();
    for (const r of report.results) if (r.status === 'skipped') reasons.set(r.reason ?? '?', (reasons.get(r.reason ?? '?') ?? 0) + 1);
    for (const [reason, n] of reasons) io.stdout.write(`skipped ${n}: ${reason}\n`);
  }
  io.stdout.write(`${summaryLine(report)}\n`);
  return report.failed > 0 ? 1 : 0;
}
