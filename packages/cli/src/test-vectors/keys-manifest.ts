/**
 * Keys manifests, versions 1–3 (test-vector framework features/0002-keys.md; spec
 * framework/test-vectors/keys-manifest.md). Version 1 stores `material` as a list of lines joined
 * by `line-separator` and may omit `key-id`; versions 2–3 store one string.
 */
import { isObject, manifestError, manifestHeader, readJsonFile } from './json.js';

export const KEYS_MANIFEST_VERSIONS = [1, 2, 3] as const;

/** A key from a keys manifest. Key material is public test data, but we still never print it. */
export interface KeySpec {
  /** The name tests use (`key` in a key description). */
  readonly name: string;
  /** `key-id`: the raw key name written in EDKs, or the KMS key ARN; the key's own name when absent. */
  readonly keyId: string;
  /** `symmetric` | `private` | `public` | `aws-kms` | `static-material` | … */
  readonly type: string;
  readonly algorithm?: string | undefined;
  readonly bits?: number | undefined;
  readonly encoding?: string | undefined;
  /** The encoded material (v1 lines already joined). */
  readonly material?: string | undefined;
  readonly decrypt: boolean;
}

export type Keys = ReadonlyMap<string, KeySpec>;

function material(k: Record<string, unknown>, file: string, at: string): string | undefined {
  const m = k.material;
  if (m === undefined) return undefined;
  if (typeof m === 'string') return m;
  if (Array.isArray(m) && m.every((l) => typeof l === 'string')) {
    const sep = k['line-separator'] ?? '';
    if (typeof sep !== 'string') throw manifestError(file, `${at}.line-separator`, 'expected a string');
    return m.join(sep);
  }
  throw manifestError(file, `${at}.material`, 'expected a string or a list of strings');
}

/** Parses a keys manifest already read as JSON. */
export function parseKeysManifest(j: unknown, file: string): Keys {
  const { root } = manifestHeader(j, file, 'keys', KEYS_MANIFEST_VERSIONS);
  if (!isObject(root.keys)) throw manifestError(file, 'keys', 'expected an object mapping key names to keys');
  const out = new Map<string, KeySpec>();
  for (const [name, k] of Object.entries(root.keys)) {
    const at = `keys.${name}`;
    if (!isObject(k)) throw manifestError(file, at, 'expected an object');
    if (typeof k.type !== 'string') throw manifestError(file, `${at}.type`, 'expected a string');
    if (k['key-id'] !== undefined && typeof k['key-id'] !== 'string') throw manifestError(file, `${at}.key-id`, 'expected a string');
    if (k.encoding !== undefined && k.encoding !== 'base64' && k.encoding !== 'pem')
      throw manifestError(file, `${at}.encoding`, `expected "base64" or "pem", got ${JSON.stringify(k.encoding)}`);
    const mat = material(k, file, at);
    if ((k.type === 'symmetric' || k.type === 'private' || k.type === 'public') && (mat === undefined || k.encoding === undefined)) {
      throw manifestError(file, at, `a ${k.type} key needs "encoding" and "material"`);
    }
    out.set(name, {
      name,
      keyId: typeof k['key-id'] === 'string' ? k['key-id'] : name,
      type: k.type,
      algorithm: typeof k.algorithm === 'string' ? k.algorithm : undefined,
      bits: typeof k.bits === 'number' ? k.bits : undefined,
      encoding: typeof k.encoding === 'string' ? k.encoding : undefined,
      material: mat,
      decrypt: k.decrypt !== false,
    });
  }
  return out;
}

/** Reads and parses a keys manifest file. */
export async function loadKeysManifest(file: string): Promise<Keys> {
  return parseKeysManifest(await readJsonFile(file), file);
}
