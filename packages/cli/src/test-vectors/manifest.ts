/**
 * Decrypt manifests (awses-decrypt v1–v5) and keys manifests (v1–v3), as specified by the public
 * aws-crypto-tools-test-vector-framework (features/0002-keys.md, 0004-awses-message-decryption.md,
 * 0005-awses-master-key.md) and the spec's framework/test-vectors (key-description.md).
 * Validated by hand; errors name the JSON path.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvelopeError } from '@envelope/core';

export function manifestError(file: string, at: string, problem: string): EnvelopeError {
  return new EnvelopeError('ENVELOPE_CONFIG', `${file}: ${at}: ${problem}`);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** A key from a keys manifest. */
export interface KeySpec {
  readonly name: string;
  /** `key-id` (raw key name / KMS key id); the key's own name when absent. */
  readonly keyId: string;
  readonly type: string; // symmetric | private | public | aws-kms | …
  readonly algorithm?: string;
  readonly encoding?: string;
  readonly material?: string;
  readonly decrypt: boolean;
}

/** A keyring description: v1–v4 master-key lists are mapped onto the v5 shape. */
export type KeyDescription =
  | { type: 'raw'; key: string; providerId: string; encryptionAlgorithm: string; paddingAlgorithm?: string; paddingHash?: string }
  | { type: 'multi-keyring'; generator?: KeyDescription; children: KeyDescription[] }
  | { type: 'required-encryption-context-cmm'; underlying: KeyDescription; requiredKeys: string[] }
  | { type: 'unsupported'; what: string };

export interface DecryptTest {
  readonly id: string;
  readonly description?: string;
  readonly ciphertext: string; // resolved path
  readonly keyring: KeyDescription;
  readonly reproducedEncryptionContext?: Record<string, string>;
  readonly expect: { plaintext: string } | { error: string };
  readonly decryptionMethod?: string;
}

export interface DecryptManifest {
  readonly file: string;
  readonly version: number;
  readonly keys: Map<string, KeySpec>;
  readonly tests: DecryptTest[];
}

/** `file://X` relative to the manifest's folder (absolute file URLs allowed). */
export function resolveUri(uri: unknown, baseDir: string, file: string, at: string): string {
  if (typeof uri !== 'string' || !uri.startsWith('file://')) throw manifestError(file, at, 'expected a file:// URI');
  const rest = uri.slice('file://'.length);
  return rest.startsWith('/') ? fileURLToPath(uri) : path.resolve(baseDir, rest);
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new EnvelopeError('ENVELOPE_CONFIG', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EnvelopeError('ENVELOPE_CONFIG', `${file}: invalid JSON (${(e as Error).message})`);
  }
}

export async function loadKeysManifest(file: string): Promise<Map<string, KeySpec>> {
  const j = await readJson(file);
  if (!isObj(j) || !isObj(j.manifest)) throw manifestError(file, 'manifest', 'expected an object');
  if (j.manifest.type !== 'keys') throw manifestError(file, 'manifest.type', 'expected "keys"');
  const v = j.manifest.version;
  if (v !== 1 && v !== 2 && v !== 3) throw manifestError(file, 'manifest.version', `unsupported keys manifest version ${String(v)} (1–3 are supported)`);
  if (!isObj(j.keys)) throw manifestError(file, 'keys', 'expected an object');
  const out = new Map<string, KeySpec>();
  for (const [name, k] of Object.entries(j.keys)) {
    if (!isObj(k) || typeof k.type !== 'string') throw manifestError(file, `keys.${name}`, 'expected a key with a "type"');
    out.set(name, {
      name,
      keyId: typeof k['key-id'] === 'string' ? k['key-id'] : name,
      type: k.type,
      algorithm: typeof k.algorithm === 'string' ? k.algorithm : undefined,
      encoding: typeof k.encoding === 'string' ? k.encoding : undefined,
      material: typeof k.material === 'string' ? k.material : undefined,
      decrypt: k.decrypt !== false,
    });
  }
  return out;
}

/** One master key (v1–v4, 0005-awses-master-key.md) or a v5 key description. */
function description(d: unknown, file: string, at: string): KeyDescription {
  if (!isObj(d) || typeof d.type !== 'string') throw manifestError(file, at, 'expected a key description with a "type"');
  switch (d.type) {
    case 'raw': {
      if (typeof d.key !== 'string') throw manifestError(file, `${at}.key`, 'expected a key name');
      if (typeof d['provider-id'] !== 'string') throw manifestError(file, `${at}.provider-id`, 'expected a string');
      if (d['encryption-algorithm'] !== 'aes' && d['encryption-algorithm'] !== 'rsa') throw manifestError(file, `${at}.encryption-algorithm`, 'expected "aes" or "rsa"');
      return {
        type: 'raw',
        key: d.key,
        providerId: d['provider-id'],
        encryptionAlgorithm: d['encryption-algorithm'],
        ...(typeof d['padding-algorithm'] === 'string' ? { paddingAlgorithm: d['padding-algorithm'] } : {}),
        ...(typeof d['padding-hash'] === 'string' ? { paddingHash: d['padding-hash'] } : {}),
      };
    }
    case 'multi-keyring': {
      const kids = d.childKeyrings ?? [];
      if (!Array.isArray(kids)) throw manifestError(file, `${at}.childKeyrings`, 'expected an array');
      return {
        type: 'multi-keyring',
        ...(d.generator !== undefined ? { generator: description(d.generator, file, `${at}.generator`) } : {}),
        children: kids.map((c, i) => description(c, file, `${at}.childKeyrings[${i}]`)),
      };
    }
    case 'required-encryption-context-cmm': {
      const keys = d.requiredEncryptionContextKeys;
      if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) throw manifestError(file, `${at}.requiredEncryptionContextKeys`, 'expected an array of strings');
      return { type: 'required-encryption-context-cmm', underlying: description(d.underlying, file, `${at}.underlying`), requiredKeys: keys as string[] };
    }
    default:
      // KMS, hierarchy, ECDH, static materials, caching: cannot run here (no AWS).
      return { type: 'unsupported', what: d.type };
  }
}

export async function loadDecryptManifest(file: string): Promise<DecryptManifest> {
  const j = await readJson(file);
  const base = path.dirname(file);
  if (!isObj(j) || !isObj(j.manifest)) throw manifestError(file, 'manifest', 'expected an object');
  if (j.manifest.type !== 'awses-decrypt') throw manifestError(file, 'manifest.type', `expected "awses-decrypt", got ${JSON.stringify(j.manifest.type)}`);
  const version = j.manifest.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > 5) {
    throw manifestError(file, 'manifest.version', `unsupported decrypt manifest version ${String(version)} (1–5 are supported)`);
  }
  const keys = j.keys === undefined ? new Map<string, KeySpec>() : await loadKeysManifest(resolveUri(j.keys, base, file, 'keys'));
  if (!isObj(j.tests)) throw manifestError(file, 'tests', 'expected an object');
  const tests: DecryptTest[] = [];
  for (const [id, t] of Object.entries(j.tests)) {
    const at = `tests.${id}`;
    if (!isObj(t)) throw manifestError(file, at, 'expected an object');
    let keyring: KeyDescription;
    const kd = t.decryptKeyDescription ?? t.keyDescription;
    if (kd !== undefined) {
      keyring = description(kd, file, `${at}.decryptKeyDescription`);
    } else {
      const mks = t['master-keys'];
      if (!Array.isArray(mks) || mks.length === 0) throw manifestError(file, `${at}.master-keys`, 'expected a non-empty array');
      const list = mks.map((m, i) => description(m, file, `${at}.master-keys[${i}]`));
      keyring = list.length === 1 ? list[0]! : { type: 'multi-keyring', children: list };
    }
    const ec = t['encryption-context'] ?? t.encryptionContext;
    const reproduced = t.reproducedEncryptionContext ?? t['reproduced-encryption-context'] ?? ec;
    if (reproduced !== undefined && (!isObj(reproduced) || Object.values(reproduced).some((v) => typeof v !== 'string'))) {
      throw manifestError(file, `${at}.encryption-context`, 'expected an object of strings');
    }
    // v4 "cmm": "RequiredEncryptionContext": every listed key is required and was not stored.
    if (t.cmm === 'RequiredEncryptionContext') {
      keyring = { type: 'required-encryption-context-cmm', underlying: keyring, requiredKeys: Object.keys((ec as Obj | undefined) ?? {}) };
    }
    let expect: DecryptTest['expect'];
    const result = t.result;
    if (isObj(result) && isObj(result.output)) expect = { plaintext: resolveUri(result.output.plaintext, base, file, `${at}.result.output.plaintext`) };
    else if (isObj(result) && isObj(result.error)) expect = { error: String(result.error['error-description'] ?? 'must fail') };
    else if (result === undefined && typeof t.plaintext === 'string') expect = { plaintext: resolveUri(t.plaintext, base, file, `${at}.plaintext`) };
    else throw manifestError(file, `${at}.result`, 'expected { output: { plaintext } } or { error: {...} }');
    tests.push({
      id,
      ...(typeof t.description === 'string' ? { description: t.description } : {}),
      ciphertext: resolveUri(t.ciphertext, base, file, `${at}.ciphertext`),
      keyring,
      ...(reproduced !== undefined ? { reproducedEncryptionContext: reproduced as Record<string, string> } : {}),
      expect,
      ...(typeof t['decryption-method'] === 'string' ? { decryptionMethod: t['decryption-method'] } : {}),
    });
  }
  return { file, version, keys, tests };
}
