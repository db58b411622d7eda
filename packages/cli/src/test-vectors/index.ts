/**
 * The conformance runner for the public AWS Encryption SDK decrypt test vectors (awses-decrypt
 * manifests v1–v5, keys manifests v1–v3), used by `envelope test-vectors`.
 */
export { runManifests, runTest, manifestLabel } from './runner.js';
export type { RunReport, RunOptions, TestResult, TestStatus, ManifestSummary } from './runner.js';
export { summaryLine, resultLine, skipReasonLines } from './summary.js';
export { loadDecryptManifest, parseDecryptManifest, DECRYPT_MANIFEST_VERSIONS } from './decrypt-manifest.js';
export type { DecryptManifest, DecryptTest, Expectation } from './decrypt-manifest.js';
export { loadKeysManifest, parseKeysManifest, KEYS_MANIFEST_VERSIONS } from './keys-manifest.js';
export type { KeyLookup, Keys, KeySpec } from './keys-manifest.js';
export { parseKeyDescription, NEEDS_KMS } from './key-description.js';
export type { KeyDescription } from './key-description.js';
export { buildKeyring, buildMaterialsManager, failReason, skipReason, PKCS1_SKIP_REASON } from './keyrings.js';
export { judge, COMMITMENT_POLICY } from './judge.js';
export type { Verdict } from './judge.js';
