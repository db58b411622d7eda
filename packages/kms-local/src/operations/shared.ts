/**
 * What every operation shares: its signature, the key-state checks the service applies before
 * using a key, and the KeyMetadata structure it answers with.
 */
import { KmsError } from '../errors.js';
import type { KeyRecord, KeyStore } from '../store.js';
import type { Json } from './params.js';

/** One KMS operation: the parsed request in, the response body out (or a thrown KmsError). */
export type Operation = (store: KeyStore, region: string, req: Json) => Promise<Json>;

/**
 * A key may encrypt or decrypt only when Enabled: Disabled is DisabledException, PendingDeletion
 * is KMSInvalidStateException (the service's "key state" table).
 */
export function requireUsable(k: KeyRecord): void {
  if (k.state === 'Disabled') throw new KmsError('DisabledException', `${k.arn} is disabled.`);
  if (k.state === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
}

/** Management operations (enable, disable, rotate) are refused on a key pending deletion. */
export function requireNotPendingDeletion(k: KeyRecord): void {
  if (k.state === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
}

/** The KeyMetadata structure of DescribeKey, CreateKey and ReplicateKey. */
export function keyMetadata(store: KeyStore, k: KeyRecord): Json {
  const m: Json = {
    AWSAccountId: store.accountId,
    KeyId: k.keyId,
    Arn: k.arn,
    CreationDate: k.created,
    Enabled: k.state === 'Enabled',
    Description: k.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: k.state,
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: k.multiRegion,
  };
  if (k.deletionDate !== undefined) m.DeletionDate = k.deletionDate;
  if (k.multiRegion) {
    const all = store.replicas(k);
    const primary = all.find((r) => r.region === k.primaryRegion) ?? k;
    m.MultiRegionConfiguration = {
      MultiRegionKeyType: k.region === k.primaryRegion ? 'PRIMARY' : 'REPLICA',
      PrimaryKey: { Arn: primary.arn, Region: primary.region },
      ReplicaKeys: all.filter((r) => r.region !== k.primaryRegion).map((r) => ({ Arn: r.arn, Region: r.region })),
    };
  }
  return m;
}
