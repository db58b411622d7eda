export { runManifests, summaryLine } from './runner.js';
export type { RunReport, RunOptions, TestResult } from './runner.js';
export { loadDecryptManifest, loadKeysManifest } from './manifest.js';
export type { DecryptManifest, DecryptTest, KeyDescription, KeySpec } from './manifest.js';
