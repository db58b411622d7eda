/**
 * Decrypt manifests (`awses-decrypt`), versions 1–5, as written by the AWS Encryption SDKs:
 *
 * - v1: `ciphertext`, `plaintext` and `master-keys` per test (always a positive test; a v2 test
 *   without `result` is read the same way).
 * - v2, v3 (features/0004-awses-message-decryption.md): `result` is `{ output: { plaintext } }` or
 *   `{ error: { error-description } }`; optional `decryption-method` (`streaming-unsigned-only`).
 * - v4 (ESDK-NET 4.x): adds `cmm` (`Default` | `RequiredEncryptionContext`) and `encryption-context`.
 *   For the required-encryption-context CMM every listed key is required (and was not stored in
 *   the header); the pairs are the reproduced context.
 * - v5 (ESDK Dafny test vectors): each test is `{ "decryption-scenario": { type: "positive-esdk",
 *   ciphertext, result: "file://plaintext", algorithmSuiteId, frame-size, description,
 *   decryptKeyDescription, reproduced-encryption-context } }`. The flat form (those members on the
 *   test itself, `result` as in v3) is accepted too.
 *
 * `file://` URIs are relative to the manifest's folder; the keys manifest is loaded from `keys`.
 */
import path from 'node:path';
import { getSuite } from '@envelope/core';
import { loadKeysManifest, noKeys, type Keys } from './keys-manifest.js';
import { parseKeyDescription, type KeyDescription } from './key-description.js';
import {
  isObject,
  manifestError,
  manifestHeader,
  optionalString,
  optionalStringMap,
  readJsonFile,
  resolveFileUri,
  type JsonObject,
} from './json.js';

export const DECRYPT_MANIFEST_VERSIONS = [1, 2, 3, 4, 5] as const;

export type Expectation = { readonly plaintext: string } | { readonly error: string };

export interface DecryptTest {
  readonly id: string;
  readonly description?: string | undefined;
  /** Absolute path of the ciphertext. */
  readonly ciphertext: string;
  readonly keyring: KeyDescription;
  /** Passed to decrypt as the caller's (reproduced) encryption context. */
  readonly encryptionContext?: Readonly<Record<string, string>> | undefined;
  /** Absolute path of the expected plaintext, or the documented reason decryption must fail. */
  readonly expect: Expectation;
  /** `streaming-unsigned-only`, or undefined for "every API we have". */
  readonly decryptionMethod?: 'streaming-unsigned-only' | undefined;
  /** v5: the suite the message must use. */
  readonly suiteId?: number | undefined;
}

export interface DecryptManifest {
  readonly file: string;
  readonly version: number;
  readonly keysFile?: string | undefined;
  readonly keys: Keys;
  readonly tests: readonly DecryptTest[];
}

interface Ctx {
  readonly file: string;
  readonly base: string;
  readonly keys: Keys;
  readonly version: number;
}

function expectation(result: unknown, at: string, ctx: Ctx): Expectation {
  if (!isObject(result)) throw manifestError(ctx.file, at, 'expected { output: { plaintext } } or { error: { error-description } }');
  const kinds = Object.keys(result);
  if (kinds.length !== 1 || (kinds[0] !== 'output' && kinds[0] !== 'error')) {
    throw manifestError(ctx.file, at, `expected exactly one of "output" or "error", got ${JSON.stringify(kinds)}`);
  }
  if (isObject(result.output)) return { plaintext: resolveFileUri(result.output.plaintext, ctx.base, ctx.file, `${at}.output.plaintext`) };
  if (isObject(result.error)) {
    const d = result.error['error-description'];
    return { error: typeof d === 'string' ? d : 'must fail' };
  }
  throw manifestError(ctx.file, `${at}.${kinds[0]}`, 'expected an object');
}

function decryptionMethod(t: JsonObject, at: string, ctx: Ctx): DecryptTest['decryptionMethod'] {
  const m = optionalString(t, 'decryption-method', ctx.file, at);
  if (m === undefined) return undefined;
  if (m !== 'streaming-unsigned-only')
    throw manifestError(ctx.file, `${at}.decryption-method`, `expected "streaming-unsigned-only", got ${JSON.stringify(m)}`);
  return m;
}

/** v1–v4: `master-keys`, one or several (several = a multi-keyring of all). */
function masterKeys(t: JsonObject, at: string, ctx: Ctx): KeyDescription {
  const mks = t['master-keys'];
  if (!Array.isArray(mks) || mks.length === 0)
    throw manifestError(ctx.file, `${at}.master-keys`, 'expected a non-empty array of master keys');
  const list = mks.map((m, i) => parseKeyDescription(m, `${at}.master-keys[${i}]`, ctx));
  return list.length === 1 ? list[0]! : { type: 'multi-keyring', children: list };
}

function v1to4(id: string, t: JsonObject, at: string, ctx: Ctx): DecryptTest {
  let keyring = masterKeys(t, at, ctx);
  let expect: Expectation;
  // v1 names the plaintext beside the ciphertext; some v2 writers kept doing so.
  if (ctx.version <= 2 && t.result === undefined) {
    expect = { plaintext: resolveFileUri(t.plaintext, ctx.base, ctx.file, `${at}.plaintext`) };
  } else {
    expect = expectation(t.result, `${at}.result`, ctx);
  }
  let encryptionContext: Record<string, string> | undefined;
  if (ctx.version >= 4) {
    encryptionContext = optionalStringMap(t['encryption-context'], ctx.file, `${at}.encryption-context`);
    const cmm = t.cmm ?? 'Default';
    if (cmm === 'RequiredEncryptionContext') {
      keyring = { type: 'required-encryption-context-cmm', underlying: keyring, requiredKeys: Object.keys(encryptionContext ?? {}) };
    } else if (cmm !== 'Default') {
      throw manifestError(ctx.file, `${at}.cmm`, `expected "Default" or "RequiredEncryptionContext", got ${JSON.stringify(cmm)}`);
    }
  }
  return {
    id,
    description: optionalString(t, 'description', ctx.file, at),
    ciphertext: resolveFileUri(t.ciphertext, ctx.base, ctx.file, `${at}.ciphertext`),
    keyring,
    encryptionContext,
    expect,
    decryptionMethod: decryptionMethod(t, at, ctx),
  };
}

function v5(id: string, t: JsonObject, at: string, ctx: Ctx): DecryptTest {
  let s = t;
  let sAt = at;
  if (t['decryption-scenario'] !== undefined) {
    if (!isObject(t['decryption-scenario'])) throw manifestError(ctx.file, `${at}.decryption-scenario`, 'expected an object');
    s = t['decryption-scenario'];
    sAt = `${at}.decryption-scenario`;
  }
  const type = optionalString(s, 'type', ctx.file, sAt);
  let expect: Expectation;
  if (typeof s.result === 'string') {
    if (type === 'negative-esdk') throw manifestError(ctx.file, `${sAt}.result`, 'a negative-esdk test cannot name a plaintext');
    expect = { plaintext: resolveFileUri(s.result, ctx.base, ctx.file, `${sAt}.result`) };
  } else if (s.result === undefined && type === 'negative-esdk') {
    const d = s.decryptErrorDescription ?? s.errorDescription;
    expect = { error: typeof d === 'string' ? d : 'must fail' };
  } else {
    expect = expectation(s.result, `${sAt}.result`, ctx);
  }
  if (type !== undefined && type !== 'positive-esdk' && type !== 'negative-esdk') {
    throw manifestError(ctx.file, `${sAt}.type`, `expected "positive-esdk" or "negative-esdk", got ${JSON.stringify(type)}`);
  }
  if (type === 'positive-esdk' && 'error' in expect)
    throw manifestError(ctx.file, `${sAt}.result`, 'a positive-esdk test needs a plaintext');
  const kdKey =
    s.decryptKeyDescription !== undefined ? 'decryptKeyDescription' : s.keyDescription !== undefined ? 'keyDescription' : undefined;
  const keyring = kdKey ? parseKeyDescription(s[kdKey], `${sAt}.${kdKey}`, ctx) : masterKeys(s, sAt, ctx);
  const rec = s['reproduced-encryption-context'] !== undefined ? 'reproduced-encryption-context' : 'reproducedEncryptionContext';
  const encryptionContext = optionalStringMap(s[rec], ctx.file, `${sAt}.${rec}`);
  let suiteId: number | undefined;
  if (s.algorithmSuiteId !== undefined) {
    const v = s.algorithmSuiteId;
    try {
      suiteId = getSuite(typeof v === 'string' ? `0x${v.replace(/^0x/i, '')}` : (v as number)).id;
    } catch {
      throw manifestError(ctx.file, `${sAt}.algorithmSuiteId`, `unknown algorithm suite ${JSON.stringify(v)}`);
    }
  }
  return {
    id,
    description: optionalString(s, 'description', ctx.file, sAt),
    ciphertext: resolveFileUri(s.ciphertext, ctx.base, ctx.file, `${sAt}.ciphertext`),
    keyring,
    encryptionContext,
    expect,
    decryptionMethod: decryptionMethod(s, sAt, ctx),
    suiteId,
  };
}

/** Parses a decrypt manifest already read as JSON; `keys` is its loaded keys manifest. */
export function parseDecryptManifest(j: unknown, file: string, keys: Keys, keysFile?: string): DecryptManifest {
  const { root, version } = manifestHeader(j, file, 'awses-decrypt', DECRYPT_MANIFEST_VERSIONS);
  if (!isObject(root.tests)) throw manifestError(file, 'tests', 'expected an object mapping test ids to tests');
  const ctx: Ctx = { file, base: path.dirname(file), keys, version };
  const tests = Object.entries(root.tests).map(([id, t]) => {
    const at = `tests.${id}`;
    if (!isObject(t)) throw manifestError(file, at, 'expected an object');
    return version === 5 ? v5(id, t, at, ctx) : v1to4(id, t, at, ctx);
  });
  return { file, version, keysFile, keys, tests };
}

/** Reads a decrypt manifest and the keys manifest it names (`keys`, a file:// URI). */
export async function loadDecryptManifest(file: string): Promise<DecryptManifest> {
  const abs = path.resolve(file);
  const j = await readJsonFile(abs);
  // Check the header before following `keys`, so a wrong file gets the clearer error.
  const { root } = manifestHeader(j, abs, 'awses-decrypt', DECRYPT_MANIFEST_VERSIONS);
  let keys: Keys = noKeys(abs);
  let keysFile: string | undefined;
  if (root.keys !== undefined) {
    keysFile = resolveFileUri(root.keys, path.dirname(abs), abs, 'keys');
    keys = await loadKeysManifest(keysFile);
  }
  return parseDecryptManifest(j, abs, keys, keysFile);
}
