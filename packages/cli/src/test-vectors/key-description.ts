/**
 * Key descriptions: how a test says which keyring (or CMM) decrypts it.
 *
 * - v1–v4 decrypt manifests list master keys (features/0005-awses-master-key.md): `raw` (AES or
 *   RSA) and `aws-kms`. Several master keys mean a multi-keyring of all of them.
 * - v5 manifests use the MPL key descriptions
 * (spec: framework/test-vectors/key-description.md#reference-level-explanation): also
 * `multi-keyring` (`generator`, `childKeyrings`), `required-encryption-context-cmm` (`underlying`,
 * `requiredEncryptionContextKeys`), a JSON array (= a multi-keyring whose first element is the
 * generator), and KMS, hierarchy, ECDH and static-material types.
 *
 * Types that cannot run here become `unsupported` with the reason, so their tests are counted as
 * skipped rather than dropped. A raw key that is missing from the keys manifest, of the wrong kind,
 * or unreadable there becomes `invalid`: that test fails, with the reason, and the others run.
 */
import type { RsaPadding } from '@envelope/keyring-local';
import type { Keys } from './keys-manifest.js';
import { isObject, manifestError, optionalString, requireString, type JsonObject } from './json.js';

export type KeyDescription =
  | { readonly type: 'raw-aes'; readonly key: string; readonly providerId: string }
  | { readonly type: 'raw-rsa'; readonly key: string; readonly providerId: string; readonly padding: RsaPadding }
  | { readonly type: 'multi-keyring'; readonly generator?: KeyDescription | undefined; readonly children: readonly KeyDescription[] }
  | { readonly type: 'required-encryption-context-cmm'; readonly underlying: KeyDescription; readonly requiredKeys: readonly string[] }
  | { readonly type: 'unsupported'; readonly what: string; readonly reason: string }
  | { readonly type: 'invalid'; readonly reason: string };

/** The skip reason for every description type that needs AWS KMS. */
export const NEEDS_KMS = 'needs AWS KMS';

const KMS_TYPES = new Set([
  'aws-kms',
  'aws-kms-mrk-aware',
  'aws-kms-mrk-aware-discovery',
  'aws-kms-rsa',
  'aws-kms-hierarchy',
  'aws-kms-ecdh',
]);
const OTHER_UNSUPPORTED: Record<string, string> = {
  'raw-ecdh': 'raw ECDH keyrings are not implemented',
  'static-material-keyring': 'static-material keyrings (MPL test keyrings) are not implemented',
  'caching-cmm': 'caching-cmm descriptions are not supported',
};
const OAEP_HASHES = ['sha1', 'sha256', 'sha384', 'sha512'] as const;

/** Context for parsing: the file (for errors) and the keys manifest (to check key references). */
interface Ctx {
  readonly file: string;
  readonly keys: Keys;
}

/** The key a raw master key names, checked against the kinds it may be; or why it cannot be used. */
function keyRef(
  o: JsonObject,
  at: string,
  ctx: Ctx,
  kinds: readonly string[],
  encoding: string,
): { name: string } | { invalid: KeyDescription } {
  const name = requireString(o, 'key', ctx.file, at);
  const invalid = (problem: string) => ({
    invalid: { type: 'invalid', reason: manifestError(ctx.file, `${at}.key`, problem).message } as const,
  });
  const found = ctx.keys.lookup(name);
  if (found.problem !== undefined) {
    return invalid(found.problem.startsWith('key ') ? found.problem : `key ${JSON.stringify(name)} cannot be used: ${found.problem}`);
  }
  const k = found.key;
  if (!kinds.includes(k.type) || k.encoding !== encoding) {
    return invalid(
      `key ${JSON.stringify(name)} is a ${k.type} key (${k.encoding ?? 'no'} encoding); expected ${kinds.join(' or ')} with ${encoding} encoding`,
    );
  }
  return { name };
}

function raw(o: JsonObject, at: string, ctx: Ctx): KeyDescription {
  const providerId = requireString(o, 'provider-id', ctx.file, at);
  const alg = o['encryption-algorithm'];
  if (alg === 'aes') {
    const ref = keyRef(o, at, ctx, ['symmetric'], 'base64');
    return 'invalid' in ref ? ref.invalid : { type: 'raw-aes', key: ref.name, providerId };
  }
  if (alg !== 'rsa') throw manifestError(ctx.file, `${at}.encryption-algorithm`, `expected "aes" or "rsa", got ${JSON.stringify(alg)}`);
  const ref = keyRef(o, at, ctx, ['private', 'public'], 'pem');
  const paddingAlgorithm = o['padding-algorithm'];
  const hash = optionalString(o, 'padding-hash', ctx.file, at);
  let padding: RsaPadding;
  if (paddingAlgorithm === 'pkcs1') {
    padding = 'pkcs1'; // padding-hash, if any, is ignored (MPL writes "sha1")
  } else {
    if (paddingAlgorithm !== 'oaep-mgf1')
      throw manifestError(ctx.file, `${at}.padding-algorithm`, `expected "pkcs1" or "oaep-mgf1", got ${JSON.stringify(paddingAlgorithm)}`);
    // 0005-awses-master-key.md: padding-hash is required with oaep-mgf1; MGF1 uses the same hash.
    if (hash === undefined || !(OAEP_HASHES as readonly string[]).includes(hash)) {
      throw manifestError(ctx.file, `${at}.padding-hash`, `oaep-mgf1 needs one of ${OAEP_HASHES.join(', ')}, got ${JSON.stringify(hash)}`);
    }
    padding = `oaep-${hash}` as RsaPadding;
  }
  return 'invalid' in ref ? ref.invalid : { type: 'raw-rsa', key: ref.name, providerId, padding };
}

/** Parses one key description (or master key) at JSON path `at`. */
export function parseKeyDescription(d: unknown, at: string, ctx: Ctx): KeyDescription {
  if (Array.isArray(d)) {
    // (spec: framework/test-vectors/key-description.md#reference-level-explanation): an array is a
    // multi-keyring; the first element is the generator.
    if (d.length === 0) throw manifestError(ctx.file, at, 'expected at least one key description');
    const [first, ...rest] = d;
    return {
      type: 'multi-keyring',
      generator: parseKeyDescription(first, `${at}[0]`, ctx),
      children: rest.map((c, i) => parseKeyDescription(c, `${at}[${i + 1}]`, ctx)),
    };
  }
  if (!isObject(d)) throw manifestError(ctx.file, at, 'expected a key description object');
  const type = d.type;
  if (typeof type !== 'string') throw manifestError(ctx.file, `${at}.type`, 'expected a string');
  switch (type) {
    case 'raw':
      return raw(d, at, ctx);
    case 'multi-keyring': {
      const kids = d.childKeyrings ?? [];
      if (!Array.isArray(kids)) throw manifestError(ctx.file, `${at}.childKeyrings`, 'expected an array');
      if (d.generator === undefined && kids.length === 0)
        throw manifestError(ctx.file, at, 'a multi-keyring needs a generator or childKeyrings');
      return {
        type: 'multi-keyring',
        generator: d.generator === undefined ? undefined : parseKeyDescription(d.generator, `${at}.generator`, ctx),
        children: kids.map((c, i) => parseKeyDescription(c, `${at}.childKeyrings[${i}]`, ctx)),
      };
    }
    case 'required-encryption-context-cmm': {
      const keys = d.requiredEncryptionContextKeys ?? [];
      if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) {
        throw manifestError(ctx.file, `${at}.requiredEncryptionContextKeys`, 'expected an array of strings');
      }
      if (d.underlying === undefined) throw manifestError(ctx.file, `${at}.underlying`, 'expected the keyring or CMM this one wraps');
      return {
        type: 'required-encryption-context-cmm',
        underlying: parseKeyDescription(d.underlying, `${at}.underlying`, ctx),
        requiredKeys: keys as string[],
      };
    }
    default:
      if (KMS_TYPES.has(type)) return { type: 'unsupported', what: type, reason: NEEDS_KMS };
      return { type: 'unsupported', what: type, reason: OTHER_UNSUPPORTED[type] ?? `unknown key description type ${JSON.stringify(type)}` };
  }
}

/** Every reason a description cannot run here (empty when it can). */
export function unsupportedReasons(d: KeyDescription): string[] {
  return collect(d, 'unsupported');
}

/** Every reason a description is wrong (a key the keys manifest lacks or cannot give); empty when none. */
export function invalidReasons(d: KeyDescription): string[] {
  return collect(d, 'invalid');
}

function collect(d: KeyDescription, kind: 'unsupported' | 'invalid'): string[] {
  switch (d.type) {
    case 'unsupported':
    case 'invalid':
      return d.type === kind ? [d.reason] : [];
    case 'multi-keyring':
      return [...(d.generator ? collect(d.generator, kind) : []), ...d.children.flatMap((c) => collect(c, kind))];
    case 'required-encryption-context-cmm':
      return collect(d.underlying, kind);
    default:
      return [];
  }
}

/** Whether any raw RSA key in the description uses PKCS#1 v1.5. */
export function usesPkcs1(d: KeyDescription): boolean {
  switch (d.type) {
    case 'raw-rsa':
      return d.padding === 'pkcs1';
    case 'multi-keyring':
      return (d.generator !== undefined && usesPkcs1(d.generator)) || d.children.some(usesPkcs1);
    case 'required-encryption-context-cmm':
      return usesPkcs1(d.underlying);
    default:
      return false;
  }
}
