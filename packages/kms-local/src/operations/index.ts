/** The operations kms-local serves, by the name after `TrentService.` in X-Amz-Target. */
import { CreateAlias, DeleteAlias, ListAliases } from './aliases.js';
import { Decrypt, Encrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, ReEncrypt } from './cryptographic.js';
import { CreateKey, DescribeKey, ListKeys, ReplicateKey } from './keys.js';
import {
  CancelKeyDeletion,
  DisableKey,
  DisableKeyRotation,
  EnableKey,
  EnableKeyRotation,
  GetKeyRotationStatus,
  RotateKeyOnDemand,
  ScheduleKeyDeletion,
} from './lifecycle.js';
import type { Operation } from './shared.js';

export type { Operation } from './shared.js';
export type { Json } from './params.js';

/** Operation name → handler. A null-prototype map, so `TrentService.constructor` is simply unknown. */
export const OPERATIONS: Readonly<Record<string, Operation>> = Object.assign(Object.create(null) as Record<string, Operation>, {
  CancelKeyDeletion,
  CreateAlias,
  CreateKey,
  Decrypt,
  DeleteAlias,
  DescribeKey,
  DisableKey,
  DisableKeyRotation,
  EnableKey,
  EnableKeyRotation,
  Encrypt,
  GenerateDataKey,
  GenerateDataKeyWithoutPlaintext,
  GetKeyRotationStatus,
  ListAliases,
  ListKeys,
  ReEncrypt,
  ReplicateKey,
  RotateKeyOnDemand,
  ScheduleKeyDeletion,
});
