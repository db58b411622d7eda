/**
 * Key lifecycle: EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion, EnableKeyRotation,
 * DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand. Nothing is ever really deleted:
 * a key pending deletion stays PendingDeletion (kms-local has no scheduler).
 */
import { KmsError, validation } from '../errors.js';
import { keyIdParam } from './params.js';
import { requireNotPendingDeletion, requireUsable, type Operation } from './shared.js';

/** EnableKey: Disabled → Enabled; KMSInvalidStateException while pending deletion. */
export const EnableKey: Operation = async (store, region, req) => {
  const k = store.resolve(region, keyIdParam(req));
  requireNotPendingDeletion(k);
  await store.update(k, { state: 'Enabled' });
  return {};
};

/** DisableKey: the key refuses cryptographic use with DisabledException until enabled again. */
export const DisableKey: Operation = async (store, region, req) => {
  const k = store.resolve(region, keyIdParam(req));
  requireNotPendingDeletion(k);
  await store.update(k, { state: 'Disabled' });
  return {};
};

/** ScheduleKeyDeletion: PendingWindowInDays 7..30 (default 30); the key is PendingDeletion from now on. */
export const ScheduleKeyDeletion: Operation = async (store, region, req) => {
  const k = store.resolve(region, keyIdParam(req));
  const days = req.PendingWindowInDays ?? 30;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 7 || days > 30)
    throw validation('pendingWindowInDays', 'Member must have value between 7 and 30');
  requireNotPendingDeletion(k);
  const deletionDate = Math.floor(Date.now() / 1000) + days * 86400;
  await store.update(k, { state: 'PendingDeletion', deletionDate });
  return { KeyId: k.arn, DeletionDate: deletionDate, KeyState: 'PendingDeletion', PendingWindowInDays: days };
};

/** CancelKeyDeletion: back to Disabled, as the service does. */
export const CancelKeyDeletion: Operation = async (store, region, req) => {
  const k = store.resolve(region, keyIdParam(req));
  if (k.state !== 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${k.arn} is not pending deletion.`);
  await store.update(k, { state: 'Disabled', deletionDate: undefined });
  return { KeyId: k.arn };
};

/** Only a multi-region primary (or a single-region key) manages rotation of its material. */
function requirePrimary(k: { multiRegion: boolean; region: string; primaryRegion?: string; arn: string }): void {
  if (k.multiRegion && k.primaryRegion !== k.region)
    throw new KmsError('UnsupportedOperationException', `${k.arn} is a replica key; rotate its primary.`);
}

/** EnableKeyRotation: records the flag (kms-local rotates only on demand). */
export const EnableKeyRotation: Operation = async (store, region, req) => {
  const k = store.resolve(region, keyIdParam(req));
  requireUsable(k);
  requirePrimary(k);
  await store.update(k, { rotationEnabled: true });
  return {};
};

/** DisableKeyRotation: clears the flag. */
export const DisableKeyRotation: Operation = async (store, region, req) => {
  const k = store.resolve(region, keyIdParam(req));
  requireUsable(k);
  requirePrimary(k);
  await store.update(k, { rotationEnabled: false });
  return {};
};

/** GetKeyRotationStatus. */
export const GetKeyRotationStatus: Operation = async (store, region, req) => {
  const k = store.resolve(region, keyIdParam(req));
  requireNotPendingDeletion(k);
  return { KeyRotationEnabled: k.rotationEnabled, KeyId: k.arn };
};

/** RotateKeyOnDemand: new material for new ciphertexts (replicas share it); old material still decrypts. */
export const RotateKeyOnDemand: Operation = async (store, region, req) => {
  const k = store.resolve(region, keyIdParam(req));
  requireUsable(k);
  requirePrimary(k);
  await store.rotate(k);
  return { KeyId: k.keyId };
};
