/**
 * Keys manifests, versions 1–3 (test-vector framework features/0002-keys.md;
 * (spec: framework/test-vectors/keys-manifest.md#keys-manifest)). Version 1 stores `material` as a
 * list of lines joined by `line-separator` and may omit `key-id`; versions 2–3 store one string.
 *
 * Only the manifest's header and the shape of `keys` are checked when it loads. Each key is parsed
 * when a test first references it: the Material Providers Library's manifests (4.x) list key types
 * this runner never uses (`static-material`, `static-branch-key`, `ecc-private`, `aws-kms-ecdh`
 * with encoding `base64-der`, …), and one key we cannot read must fail only the tests that use it,
 * not the whole manifest.
 */
import { isObject, manifestError, manifestHeader, readJsonFile, type JsonObject } from './json.js';

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

/** A key, or why it cannot be used (a message naming the file and the JSON path). */
export type KeyLookup = { readonly key: KeySpec; readonly problem?: undefined } | { readonly key?: undefined; readonly problem: string };

/** The keys of one manifest, parsed one at a time as tests reference them. */
export interface Keys {
  /** The keys manifest's path, for messages. */
  readonly file: string;
  /** Every key name the manifest lists. */
  readonly names: readonly string[];
  /** The key named `name`, or the problem with it (absent, or an entry this runner cannot read). */
  lookup(name: string): KeyLookup;
}

/** Types whose material the runner uses, and the encodings it reads for them. */
const RAW_KEY_ENCODINGS: Readonly<Record<string, readonly string[]>> = {
  symmetric: ['base64'],
  private: ['pem'],
  public: ['pem'],
};

function material(k: JsonObject, file: string, at: string): string | undefined {
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

/**
 * Parses one key entry. Raw key types (symmetric, private, public) must have a known `encoding`
 * and their `material`; other types are taken as they are (the runner only needs their type to
 * say why a test that uses them is skipped).
 */
function parseKey(name: string, k: unknown, file: string): KeySpec {
  const at = `keys.${name}`;
  if (!isObject(k)) throw manifestError(file, at, 'expected an object');
  if (typeof k.type !== 'string') throw manifestError(file, `${at}.type`, 'expected a string');
  if (k['key-id'] !== undefined && typeof k['key-id'] !== 'string') throw manifestError(file, `${at}.key-id`, 'expected a string');
  const encodings = RAW_KEY_ENCODINGS[k.type];
  const mat = encodings ? material(k, file, at) : undefined;
  if (encodings) {
    if (mat === undefined || k.encoding === undefined) throw manifestError(file, at, `a ${k.type} key needs "encoding" and "material"`);
    if (typeof k.encoding !== 'string' || !encodings.includes(k.encoding))
      throw manifestError(
        file,
        `${at}.encoding`,
        `a ${k.type} key's encoding must be ${encodings.join(' or ')}, got ${JSON.stringify(k.encoding)}`,
      );
  }
  return {
    name,
    keyId: typeof k['key-id'] === 'string' ? k['key-id'] : name,
    type: k.type,
    algorithm: typeof k.algorithm === 'string' ? k.algorithm : undefined,
    bits: typeof k.bits === 'number' ? k.bits : undefined,
    encoding: typeof k.encoding === 'string' ? k.encoding : undefined,
    material: mat,
    decrypt: k.decrypt !== false,
  };
}

/** Parses a keys manifest already read as JSON: the header and `keys` now, each key on first lookup. */
export function parseKeysManifest(j: unknown, file: string): Keys {
  const { root } = manifestHeader(j, file, 'keys', KEYS_MANIFEST_VERSIONS);
  const entries = root.keys;
  if (!isObject(entries)) throw manifestError(file, 'keys', 'expected an object mapping key names to keys');
  const parsed = new Map<string, KeyLookup>();
  return {
    file,
    names: Object.keys(entries),
    lookup(name: string): KeyLookup {
      let r = parsed.get(name);
      if (r === undefined) {
        if (!Object.hasOwn(entries, name)) return { problem: `key ${JSON.stringify(name)} is not in the keys manifest` };
        try {
          r = { key: parseKey(name, entries[name], file) };
        } catch (e) {
          r = { problem: (e as Error).message };
        }
        parsed.set(name, r);
      }
      return r;
    },
  };
}

/** No keys (a decrypt manifest that names no keys manifest). */
export function noKeys(file: string): Keys {
  return parseKeysManifest({ manifest: { type: 'keys', version: 3 }, keys: {} }, file);
}

/** Reads and parses a keys manifest file. */
export async function loadKeysManifest(file: string): Promise<Keys> {
  return parseKeysManifest(await readJsonFile(file), file);
}
