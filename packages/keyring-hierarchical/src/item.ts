/**
 * Key store items and their KMS encryption context
 * (spec: framework/branch-key-store.md#record-format)
 * (spec: framework/branch-key-store.md#encryption-context)
 * (spec: framework/branch-key-store.md#custom-encryption-context)
 * (spec: framework/branch-key-store.md#branch-key-materials-from-authenticated-encryption-context).
 *
 * An item is `branch-key-id` (S, partition key), `type` (S, sort key: `branch:ACTIVE`,
 * `branch:version:<uuid>` or `beacon:ACTIVE`), `enc` (B, the KMS ciphertext of the key),
 * `kms-arn` (S), `create-time` (S), `hierarchy-version` (N, 1), `version` (S, the ACTIVE item
 * only) and the custom context as `aws-crypto-ec:<key>` (S). The KMS encryption context is every
 * attribute but `enc`, as strings, plus `tablename` = the logical key store name: so KMS
 * authenticates every attribute, and a key copied into another logical store does not decrypt.
 */
import { parseKeyArn } from '@envelope/keyring-kms';
import type { AttributeValue, Item } from './dynamodb-client.js';
import { keyStoreError } from './errors.js';
import { isUuid } from './uuid.js';

export const PARTITION_KEY = 'branch-key-id';
export const SORT_KEY = 'type';
export const ACTIVE_TYPE = 'branch:ACTIVE';
export const VERSION_TYPE_PREFIX = 'branch:version:';
export const BEACON_TYPE = 'beacon:ACTIVE';
const ENC = 'enc';
const KMS_ARN = 'kms-arn';
const CREATE_TIME = 'create-time';
const HIERARCHY_VERSION = 'hierarchy-version';
const VERSION = 'version';
const TABLE_NAME = 'tablename';
export const CUSTOM_PREFIX = 'aws-crypto-ec:';
/** KMS refuses ciphertext blobs over 6144 bytes; a longer `enc` is not a KMS ciphertext. */
const MAX_ENC_BYTES = 6144;

/** The sort key of a version's item. */
export function versionType(version: string): string {
  return `${VERSION_TYPE_PREFIX}${version}`;
}

/** ISO 8601 in UTC to microsecond precision (spec: framework/branch-key-store.md#branch-key-and-beacon-key-creation). */
export function createTime(now: Date): string {
  return now.toISOString().replace(/Z$/, '000Z');
}

/** What every new item of one branch key version shares. */
export interface NewKeyFields {
  branchKeyId: string;
  createTime: string;
  kmsArn: string;
  /** Custom encryption context, without the prefix. */
  customContext: Readonly<Record<string, string>>;
  logicalKeyStoreName: string;
}

/** The attributes of a new item other than `enc`, as strings (the KMS context minus `tablename`). */
function attributes(f: NewKeyFields, type: string, version?: string): Record<string, string> {
  const a: Record<string, string> = {
    [PARTITION_KEY]: f.branchKeyId,
    [SORT_KEY]: type,
    [CREATE_TIME]: f.createTime,
    [KMS_ARN]: f.kmsArn,
    [HIERARCHY_VERSION]: '1',
  };
  if (version !== undefined) a[VERSION] = versionType(version);
  for (const [k, v] of Object.entries(f.customContext)) a[`${CUSTOM_PREFIX}${k}`] = v;
  return a;
}

/** KMS encryption context of a DECRYPT_ONLY (`branch:version:<v>`) item. */
export function decryptOnlyContext(f: NewKeyFields, version: string): Record<string, string> {
  return { ...attributes(f, versionType(version)), [TABLE_NAME]: f.logicalKeyStoreName };
}

/** KMS encryption context of the ACTIVE item for `version`. */
export function activeContext(f: NewKeyFields, version: string): Record<string, string> {
  return { ...attributes(f, ACTIVE_TYPE, version), [TABLE_NAME]: f.logicalKeyStoreName };
}

/** KMS encryption context of the beacon key item. */
export function beaconContext(f: NewKeyFields): Record<string, string> {
  return { ...attributes(f, BEACON_TYPE), [TABLE_NAME]: f.logicalKeyStoreName };
}

/** The DynamoDB item for a KMS context (minus `tablename`) and the wrapped key. */
export function toItem(context: Readonly<Record<string, string>>, enc: Uint8Array): Item {
  const item: Item = {};
  for (const [k, v] of Object.entries(context)) {
    if (k === TABLE_NAME) continue;
    item[k] = k === HIERARCHY_VERSION ? { N: v } : { S: v };
  }
  item[ENC] = { B: enc };
  return item;
}

/** A validated item read back, with the context KMS must authenticate. */
export interface StoredKey {
  readonly branchKeyId: string;
  readonly type: string;
  /** The version this item holds (for ACTIVE, the one its `version` attribute names). */
  readonly version: string;
  readonly kmsArn: string;
  readonly enc: Uint8Array;
  /** The KMS encryption context: every attribute but `enc`, plus `tablename`. */
  readonly context: Readonly<Record<string, string>>;
  /** The custom encryption context, prefix removed. */
  readonly customContext: Readonly<Record<string, string>>;
}

/**
 * Checks an item against the record format and the request (`branchKeyId`, `type`), and builds
 * its KMS context. Throws ENVELOPE_KEY_STORE `MalformedItem` naming the branch key and the field.
 */
export function readItem(item: Item, expect: { branchKeyId: string; type: string; logicalKeyStoreName: string }): StoredKey {
  const bad = (problem: string) =>
    keyStoreError('MalformedItem', `the ${expect.type} item ${problem}`, { branchKeyId: expect.branchKeyId });
  const context: Record<string, string> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name === ENC) continue;
    const s = scalar(value);
    if (s === undefined) throw bad(`has attribute ${JSON.stringify(name)} of a type the encryption context cannot hold`);
    context[name] = s;
  }
  const str = (name: string): string => {
    const v = item[name]?.S;
    if (typeof v !== 'string' || v === '') throw bad(`lacks the string attribute ${JSON.stringify(name)}`);
    return v;
  };
  if (str(PARTITION_KEY) !== expect.branchKeyId) throw bad(`has another ${PARTITION_KEY}`);
  if (str(SORT_KEY) !== expect.type) throw bad(`has another ${SORT_KEY}`);
  const kmsArn = str(KMS_ARN);
  if (!parseKeyArn(kmsArn)) throw bad(`has a ${KMS_ARN} that is not a KMS key ARN`);
  str(CREATE_TIME);
  if (item[HIERARCHY_VERSION]?.N !== '1') throw bad(`has no ${HIERARCHY_VERSION} 1`);
  const enc = item[ENC]?.B;
  if (!(enc instanceof Uint8Array) || enc.byteLength === 0 || enc.byteLength > MAX_ENC_BYTES)
    throw bad(`lacks a binary ${ENC} of 1 to ${MAX_ENC_BYTES} bytes`);
  // spec "Branch Key Materials From Authenticated Encryption Context": ACTIVE names its version
  // in `version`; a version item's own type holds it. Either way it must be `branch:version:<uuid>`.
  const versionText = expect.type === ACTIVE_TYPE ? str(VERSION) : expect.type;
  const version = versionText.startsWith(VERSION_TYPE_PREFIX) ? versionText.slice(VERSION_TYPE_PREFIX.length) : '';
  if (!isUuid(version)) throw bad(`names a version that is not a UUID`);
  const customContext: Record<string, string> = {};
  for (const [k, v] of Object.entries(context)) if (k.startsWith(CUSTOM_PREFIX)) customContext[k.slice(CUSTOM_PREFIX.length)] = v;
  context[TABLE_NAME] = expect.logicalKeyStoreName;
  return {
    branchKeyId: expect.branchKeyId,
    type: expect.type,
    version,
    kmsArn,
    enc: new Uint8Array(enc),
    context: Object.freeze(context),
    customContext: Object.freeze(customContext),
  };
}

/** A string or number attribute's text; undefined for every other type. */
function scalar(v: AttributeValue): string | undefined {
  if (typeof v.S === 'string') return v.S;
  if (typeof v.N === 'string') return v.N;
  return undefined;
}
