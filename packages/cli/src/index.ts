/**
 * @envelope/cli: the `envelope` command, and the test-vector runner for programmatic use.
 */
export { main, HELP } from './main.js';
export {
  runManifests,
  summaryLine,
  resultLine,
  skipReasonLines,
  loadDecryptManifest,
  PKCS1_SKIP_REASON,
  NEEDS_KMS,
} from './test-vectors/index.js';
export type {
  RunReport,
  RunOptions,
  TestResult,
  TestStatus,
  ManifestSummary,
  DecryptManifest,
  DecryptTest,
  KeyDescription,
} from './test-vectors/index.js';
