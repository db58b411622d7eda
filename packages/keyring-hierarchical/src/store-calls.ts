/**
 * The store's calls to DynamoDB and KMS, one region each: every one under keyring-kms's
 * {@link Retrier} (a per-attempt deadline, the caller's AbortSignal, budgeted retries of transient
 * failures), and every failure turned into a coded error that names the branch key.
 */
import { EnvelopeError, invalidArgument, isAborted } from '@envelope/core';
import { decryptDataKey, keyFailure, reasonOf, type KmsClient, type Retrier } from '@envelope/keyring-kms';
import type { DynamoDbClient, Item } from './dynamodb-client.js';
import { keyStoreError, subject } from './errors.js';
import { BRANCH_KEY_LENGTH } from './branch-key-materials.js';
import { PARTITION_KEY, SORT_KEY } from './item.js';

/** What every call needs to know about where it runs and what it is about. */
export interface CallScope {
  readonly region: string;
  readonly tableName: string;
  readonly branchKeyId?: string | undefined;
  readonly version?: string | undefined;
  readonly retrier: Retrier;
  readonly signal?: AbortSignal | undefined;
}

/** A DynamoDB failure as a key store error: missing table, wrong schema, or the service's reason. */
export function dynamoDbError(e: unknown, op: string, s: CallScope): EnvelopeError {
  if (isAborted(e)) return e;
  const name = (e as { name?: unknown } | null)?.name;
  const message = String((e as { message?: unknown } | null)?.message ?? '');
  const init = { branchKeyId: s.branchKeyId, version: s.version, region: s.region, cause: e };
  if (name === 'ResourceNotFoundException')
    return keyStoreError('TableNotFound', `DynamoDB table ${JSON.stringify(s.tableName)} does not exist in ${s.region}`, init);
  // DynamoDB's answer to a key that does not fit the table's key schema.
  if (name === 'ValidationException' && /key element does not match the schema|missing the key/i.test(message))
    return keyStoreError(
      'TableSchema',
      `DynamoDB table ${JSON.stringify(s.tableName)} is not a key store (its key schema is not ${PARTITION_KEY} + ${SORT_KEY})`,
      init,
    );
  const reason = reasonOf(e);
  return keyStoreError(reason, `DynamoDB ${op} on ${JSON.stringify(s.tableName)} in ${s.region} failed: ${reason}`, init);
}

/** GetItem of one key store item (undefined when there is none). */
export async function getItem(
  ddb: DynamoDbClient,
  s: CallScope & { branchKeyId: string },
  type: string,
  consistentRead = false,
): Promise<Item | undefined> {
  try {
    const r = await s.retrier.run(
      (signal) =>
        ddb.getItem(
          {
            TableName: s.tableName,
            Key: { [PARTITION_KEY]: { S: s.branchKeyId }, [SORT_KEY]: { S: type } },
            ...(consistentRead ? { ConsistentRead: true } : {}),
          },
          signal,
        ),
      { signal: s.signal },
    );
    return r.Item;
  } catch (e) {
    throw dynamoDbError(e, 'GetItem', s);
  }
}

/**
 * TransactWriteItems of puts, each under its condition. A ClientRequestToken makes a retry after a
 * lost answer idempotent; a failed condition becomes `onConflict`'s error.
 */
export async function writeItems(
  ddb: DynamoDbClient,
  s: CallScope,
  puts: readonly { item: Item; condition: string; values?: Item }[],
  token: string,
  onConflict: () => EnvelopeError,
): Promise<void> {
  try {
    await s.retrier.run(
      (signal) =>
        ddb.transactWriteItems(
          {
            ClientRequestToken: token,
            TransactItems: puts.map((p) => ({
              Put: {
                TableName: s.tableName,
                Item: p.item,
                ConditionExpression: p.condition,
                // `branch-key-id` and `enc` are not valid bare names in an expression (the hyphen).
                ExpressionAttributeNames: { '#pk': PARTITION_KEY, ...(p.values ? { '#enc': 'enc' } : {}) },
                ...(p.values ? { ExpressionAttributeValues: p.values } : {}),
              },
            })),
          },
          signal,
        ),
      { signal: s.signal },
    );
  } catch (e) {
    const reasons = (e as { CancellationReasons?: { Code?: string }[] } | null)?.CancellationReasons;
    if (
      (e as { name?: string } | null)?.name === 'TransactionCanceledException' &&
      reasons?.some((r) => r.Code === 'ConditionalCheckFailed')
    )
      throw onConflict();
    throw dynamoDbError(e, 'TransactWriteItems', s);
  }
}

/** KMS failures name the branch key; InvalidCiphertext means the item's context was changed. */
function kmsError(e: unknown, op: string, keyArn: string, s: CallScope): EnvelopeError {
  if (isAborted(e)) return e;
  const reason = reasonOf(e);
  if (reason === 'InvalidCiphertextException')
    return keyStoreError(
      'TamperedItem',
      `KMS ${op} refused the item: an attribute was changed after it was written, or it belongs to another logical key store`,
      { branchKeyId: s.branchKeyId, version: s.version, region: s.region, cause: e },
    );
  const causes = e instanceof EnvelopeError && e.causes.length ? e.causes : [keyFailure(keyArn, s.region, e)];
  const detail = e instanceof EnvelopeError ? e.message : `KMS ${op} with ${keyArn} in ${s.region} failed: ${reason}`;
  return new EnvelopeError('ENVELOPE_KMS', `${subject(s.branchKeyId, s.version)}: ${detail}`, { cause: e, causes });
}

/** KMS Decrypt of an item's `enc` under its context: the 32-byte branch key (the caller wipes it). */
export async function decryptBranchKey(
  kms: KmsClient,
  s: CallScope,
  o: { keyArn: string; enc: Uint8Array; context: Readonly<Record<string, string>>; grantTokens?: readonly string[] | undefined },
): Promise<Uint8Array> {
  try {
    return await decryptDataKey({
      client: kms,
      region: s.region,
      keyArn: o.keyArn,
      ciphertext: o.enc,
      numberOfBytes: BRANCH_KEY_LENGTH,
      encryptionContext: o.context,
      grantTokens: o.grantTokens,
      retrier: s.retrier,
      signal: s.signal,
    });
  } catch (e) {
    throw kmsError(e, 'Decrypt', o.keyArn, s);
  }
}

function required<K extends 'generateDataKeyWithoutPlaintext' | 'reEncrypt'>(kms: KmsClient, op: K): NonNullable<KmsClient[K]> {
  const f = kms[op];
  if (typeof f !== 'function')
    throw invalidArgument('kms', `the client supplier's clients have no ${op} (needed to create and version branch keys)`);
  return f.bind(kms) as NonNullable<KmsClient[K]>;
}

/** GenerateDataKeyWithoutPlaintext of 32 bytes under `context`: the wrapped new key. */
export async function generateWrappedKey(
  kms: KmsClient,
  s: CallScope,
  o: { keyArn: string; context: Readonly<Record<string, string>>; grantTokens?: readonly string[] | undefined },
): Promise<Uint8Array> {
  const call = required(kms, 'generateDataKeyWithoutPlaintext');
  try {
    const r = await s.retrier.run(
      (signal) =>
        call(
          {
            KeyId: o.keyArn,
            NumberOfBytes: BRANCH_KEY_LENGTH,
            EncryptionContext: { ...o.context },
            ...(o.grantTokens?.length ? { GrantTokens: [...o.grantTokens] } : {}),
          },
          signal,
        ),
      { signal: s.signal },
    );
    if (!(r.CiphertextBlob instanceof Uint8Array) || r.CiphertextBlob.byteLength === 0)
      throw keyStoreError('MalformedResponse', 'KMS GenerateDataKeyWithoutPlaintext returned no ciphertext', s);
    return new Uint8Array(r.CiphertextBlob);
  } catch (e) {
    throw e instanceof EnvelopeError && e.code === 'ENVELOPE_KEY_STORE' ? e : kmsError(e, 'GenerateDataKeyWithoutPlaintext', o.keyArn, s);
  }
}

/**
 * ReEncrypt of `blob` from `from` to `to` (same key): the blob under the new context. With
 * `from` equal to `to`, it authenticates an item without its key ever leaving KMS
 * (spec: framework/branch-key-store.md#authenticating-a-keystore-item).
 */
export async function reEncrypt(
  kms: KmsClient,
  s: CallScope,
  o: {
    keyArn: string;
    blob: Uint8Array;
    from: Readonly<Record<string, string>>;
    to: Readonly<Record<string, string>>;
    grantTokens?: readonly string[] | undefined;
  },
): Promise<Uint8Array> {
  const call = required(kms, 'reEncrypt');
  try {
    const r = await s.retrier.run(
      (signal) =>
        call(
          {
            CiphertextBlob: o.blob,
            SourceKeyId: o.keyArn,
            SourceEncryptionContext: { ...o.from },
            DestinationKeyId: o.keyArn,
            DestinationEncryptionContext: { ...o.to },
            ...(o.grantTokens?.length ? { GrantTokens: [...o.grantTokens] } : {}),
          },
          signal,
        ),
      { signal: s.signal },
    );
    if (!(r.CiphertextBlob instanceof Uint8Array) || r.CiphertextBlob.byteLength === 0)
      throw keyStoreError('MalformedResponse', 'KMS ReEncrypt returned no ciphertext', s);
    return new Uint8Array(r.CiphertextBlob);
  } catch (e) {
    throw e instanceof EnvelopeError && e.code === 'ENVELOPE_KEY_STORE' ? e : kmsError(e, 'ReEncrypt', o.keyArn, s);
  }
}
