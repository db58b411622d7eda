/**
 * Coded errors of the branch key store and the hierarchical keyring. Every one names the branch
 * key (and version, and region when known) and carries one cause whose `reason` says what went
 * wrong, so callers and tests branch on `code` and `causes[0].reason`, never on the message.
 */
import { EnvelopeError, type ErrorCode } from '@envelope/core';

/** Why a branch key store operation failed. */
export type KeyStoreReason =
  /** No `branch:ACTIVE` item for the branch key id. */
  | 'BranchKeyNotFound'
  /** No `branch:version:<uuid>` item for that version. */
  | 'VersionNotFound'
  /** An item lacks a field of the record format, or has one of the wrong type or shape. */
  | 'MalformedItem'
  /** KMS refused the item's encryption context: an attribute was changed after it was written. */
  | 'TamperedItem'
  /** The item was made under a KMS key that is not the store's (nor a replica of it). */
  | 'KmsKeyMismatch'
  /** The table's key schema is not `branch-key-id` (hash, S) + `type` (range, S). */
  | 'TableSchema'
  /** The table does not exist (in that region). */
  | 'TableNotFound'
  /** CreateKey with an id that is already in the store. */
  | 'AlreadyExists'
  /** VersionKey lost a race: the active item changed between the read and the write. */
  | 'ConcurrentModification'
  /** DynamoDB (or every region) did not answer. */
  | 'Unavailable'
  /** The store's configuration cannot do this (e.g. write to a read-only replica set). */
  | 'Unsupported';

export interface KeyStoreErrorInit {
  branchKeyId?: string | undefined;
  version?: string | undefined;
  region?: string | undefined;
  cause?: unknown;
  code?: ErrorCode;
}

/** `branch key "id" (version v)`: the subject every message starts with. */
export function subject(branchKeyId: string | undefined, version?: string | undefined): string {
  if (branchKeyId === undefined) return 'branch key store';
  return `branch key ${JSON.stringify(branchKeyId)}${version ? ` version ${version}` : ''}`;
}

/**
 * An ENVELOPE_KEY_STORE error (or `init.code`): `branch key "id" version v: <problem>`, with one
 * cause `{ key: id, region, reason }`.
 *
 * @example
 * ```ts
 * throw keyStoreError('VersionNotFound', 'no such version in table keys', { branchKeyId: 'tenant-1', version });
 * ```
 */
export function keyStoreError(reason: KeyStoreReason | string, problem: string, init: KeyStoreErrorInit = {}): EnvelopeError {
  const key = init.branchKeyId ?? 'branch key store';
  return new EnvelopeError(init.code ?? 'ENVELOPE_KEY_STORE', `${subject(init.branchKeyId, init.version)}: ${problem}`, {
    cause: init.cause,
    causes: [{ key, region: init.region, reason, ...(init.cause === undefined ? {} : { error: init.cause }) }],
  });
}

/** The reason a key store error carries, if `e` is one. */
export function keyStoreReason(e: unknown): string | undefined {
  return e instanceof EnvelopeError && e.code === 'ENVELOPE_KEY_STORE' ? e.causes[0]?.reason : undefined;
}
