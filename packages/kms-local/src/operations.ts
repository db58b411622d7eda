/** The KMS operations kms-local serves (AWS JSON 1.1 request and response shapes). */
import { randomBytes } from 'node:crypto';
import { KmsError, validation } from './errors.js';
import { open, peek, seal, type EncryptionContext } from './ciphertext.js';
import type { KeyRecord, KeyStore } from './store.js';

type Json = Record<string, unknown>;
export type Operation = (store: KeyStore, region: string, req: Json) => Promise<Json>;

const b64 = (v: unknown, field: string, max: number): Buffer => {
  if (typeof v !== 'string') throw validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`);
  const b = Buffer.from(v, 'base64');
  if (b.byteLength === 0 || b.byteLength > max) {
    throw validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length between 1 and ${max}`);
  }
  return b;
};

function context(v: unknown, field = 'encryptionContext'): EncryptionContext | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) throw validation(`${field} must be a map of strings`);
  return v as EncryptionContext;
}

function usable(k: KeyRecord): void {
  if (k.state === 'Disabled') throw new KmsError('DisabledException', `${k.arn} is disabled.`);
  if (k.state === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
}

function metadata(store: KeyStore, k: KeyRecord): Json {
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
  if (k.deletionDate) m.DeletionDate = k.deletionDate;
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

function dataKeyLength(req: Json): number {
  if (req.NumberOfBytes !== undefined) {
    const n = req.NumberOfBytes;
    if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 1024) throw validation('NumberOfBytes must be between 1 and 1024');
    if (req.KeySpec !== undefined) throw validation('Specify either KeySpec or NumberOfBytes, not both');
    return n as number;
  }
  if (req.KeySpec === 'AES_256') return 32;
  if (req.KeySpec === 'AES_128') return 16;
  throw validation('Please specify either number of bytes or key spec.');
}

/** Decrypts a blob in `region`; `keyId`, when given, must name the blob's key. */
function unseal(store: KeyStore, region: string, blob: Buffer, ec: EncryptionContext | undefined, keyId: unknown): { key: KeyRecord; plaintext: Buffer } {
  const { family, version, body } = peek(blob);
  const owner = store.regionKeys(region).get(family);
  if (keyId !== undefined) {
    const asked = store.resolve(region, keyId as string);
    if (asked.family !== family) throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
  }
  if (!owner) throw new KmsError('InvalidCiphertextException', 'The ciphertext refers to a key that does not exist in this region.');
  usable(owner);
  const material = store.material(family, version);
  if (!material) throw new KmsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  return { key: owner, plaintext: open(family, version, material, body, ec) };
}

function sealFor(store: KeyStore, k: KeyRecord, plaintext: Buffer, ec: EncryptionContext | undefined): Buffer {
  usable(k);
  const { version, material } = store.current(k.family);
  return seal(k.family, version, material, plaintext, ec);
}

export const OPERATIONS: Record<string, Operation> = {
  async CreateKey(store, region, req) {
    if (req.KeySpec !== undefined && req.KeySpec !== 'SYMMETRIC_DEFAULT') throw new KmsError('UnsupportedOperationException', 'kms-local supports SYMMETRIC_DEFAULT keys only.');
    const k = await store.createKey(region, { description: typeof req.Description === 'string' ? req.Description : '', multiRegion: req.MultiRegion === true });
    return { KeyMetadata: metadata(store, k) };
  },
  async DescribeKey(store, region, req) {
    return { KeyMetadata: metadata(store, store.resolve(region, req.KeyId as string)) };
  },
  async ListKeys(store, region) {
    return { Keys: [...store.regionKeys(region).values()].map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), Truncated: false };
  },
  async CreateAlias(store, region, req) {
    const name = req.AliasName;
    if (typeof name !== 'string' || !/^alias\/[a-zA-Z0-9/_-]+$/.test(name) || name.startsWith('alias/aws/')) throw validation('AliasName must begin with alias/ and not alias/aws/');
    await store.createAlias(region, name, store.resolve(region, req.TargetKeyId as string));
    return {};
  },
  async ListAliases(store, region, req) {
    const target = req.KeyId === undefined ? undefined : store.resolve(region, req.KeyId as string).keyId;
    const aliases = [...store.aliases.get(region)!.entries()]
      .filter(([, t]) => target === undefined || t === target)
      .map(([name, t]) => ({ AliasName: name, AliasArn: store.aliasArn(region, name), TargetKeyId: t }));
    return { Aliases: aliases, Truncated: false };
  },
  async GenerateDataKey(store, region, req) {
    const k = store.resolve(region, req.KeyId as string);
    const plaintext = randomBytes(dataKeyLength(req));
    const blob = sealFor(store, k, plaintext, context(req.EncryptionContext));
    return { CiphertextBlob: blob.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: k.arn };
  },
  async GenerateDataKeyWithoutPlaintext(store, region, req) {
    const k = store.resolve(region, req.KeyId as string);
    const blob = sealFor(store, k, randomBytes(dataKeyLength(req)), context(req.EncryptionContext));
    return { CiphertextBlob: blob.toString('base64'), KeyId: k.arn };
  },
  async Encrypt(store, region, req) {
    const k = store.resolve(region, req.KeyId as string);
    const blob = sealFor(store, k, b64(req.Plaintext, 'plaintext', 4096), context(req.EncryptionContext));
    return { CiphertextBlob: blob.toString('base64'), KeyId: k.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },
  async Decrypt(store, region, req) {
    const { key, plaintext } = unseal(store, region, b64(req.CiphertextBlob, 'ciphertextBlob', 6144), context(req.EncryptionContext), req.KeyId);
    return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },
  async ReEncrypt(store, region, req) {
    const src = unseal(store, region, b64(req.CiphertextBlob, 'ciphertextBlob', 6144), context(req.SourceEncryptionContext, 'sourceEncryptionContext'), req.SourceKeyId);
    const dest = store.resolve(region, req.DestinationKeyId as string);
    const blob = sealFor(store, dest, src.plaintext, context(req.DestinationEncryptionContext, 'destinationEncryptionContext'));
    src.plaintext.fill(0);
    return {
      CiphertextBlob: blob.toString('base64'),
      SourceKeyId: src.key.arn,
      KeyId: dest.arn,
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  },
  async ReplicateKey(store, region, req) {
    const replicaRegion = req.ReplicaRegion;
    if (typeof replicaRegion !== 'string') throw validation('ReplicaRegion is required');
    const k = store.resolve(region, req.KeyId as string);
    const r = await store.replicate(k, replicaRegion);
    return { ReplicaKeyMetadata: metadata(store, r), ReplicaPolicy: '{}', ReplicaTags: [] };
  },
  async EnableKeyRotation(store, region, req) {
    const k = store.resolve(region, req.KeyId as string);
    usable(k);
    await store.update(k, { rotationEnabled: true });
    return {};
  },
  async GetKeyRotationStatus(store, region, req) {
    return { KeyRotationEnabled: store.resolve(region, req.KeyId as string).rotationEnabled };
  },
  async RotateKeyOnDemand(store, region, req) {
    const k = store.resolve(region, req.KeyId as string);
    usable(k);
    await store.rotate(k);
    return { KeyId: k.keyId };
  },
  async EnableKey(store, region, req) {
    const k = store.resolve(region, req.KeyId as string);
    if (k.state === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
    await store.update(k, { state: 'Enabled' });
    return {};
  },
  async DisableKey(store, region, req) {
    const k = store.resolve(region, req.KeyId as string);
    if (k.state === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
    await store.update(k, { state: 'Disabled' });
    return {};
  },
  async ScheduleKeyDeletion(store, region, req) {
    const k = store.resolve(region, req.KeyId as string);
    const days = req.PendingWindowInDays === undefined ? 30 : Number(req.PendingWindowInDays);
    if (!Number.isInteger(days) || days < 7 || days > 30) throw validation('PendingWindowInDays must be between 7 and 30');
    const deletionDate = Math.floor(Date.now() / 1000) + days * 86400;
    await store.update(k, { state: 'PendingDeletion', deletionDate });
    return { KeyId: k.arn, DeletionDate: deletionDate, KeyState: 'PendingDeletion', PendingWindowInDays: days };
  },
};
