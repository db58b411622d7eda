/**
 * Cryptographic operations: GenerateDataKey, GenerateDataKeyWithoutPlaintext, Encrypt, Decrypt,
 * ReEncrypt. Blobs are sealed under the key family's newest material and opened with the version
 * they name (ciphertext.ts), so rotation never strands an old ciphertext.
 */
import { KmsError, invalidCiphertext } from '../errors.js';
import { randomBytesPooled } from '../random.js';
import { open, peek, seal, type EncryptionContext } from '../ciphertext.js';
import type { KeyRecord, KeyStore } from '../store.js';
import { algorithmParam, blobParam, contextParam, dataKeyLength, grantTokensParam, keyIdParam, optionalKeyIdParam } from './params.js';
import { requireUsable, type Operation } from './shared.js';

/** The service's limits: 4096 bytes of plaintext for Encrypt, 6144 bytes of ciphertext blob. */
export const MAX_PLAINTEXT_BYTES = 4096;
export const MAX_CIPHERTEXT_BYTES = 6144;

function sealFor(store: KeyStore, k: KeyRecord, plaintext: Buffer, ec: EncryptionContext | undefined): Buffer {
  requireUsable(k);
  const { version, material } = store.current(k.family);
  return seal(k.family, version, material, plaintext, ec);
}

/**
 * Opens a blob in `region`. With `keyRef`, it must name the blob's key (IncorrectKeyException
 * otherwise); without, the key the blob names is used. A blob whose key is not in this region is
 * refused with the service's AccessDeniedException.
 */
function unseal(
  store: KeyStore,
  region: string,
  blob: Buffer,
  ec: EncryptionContext | undefined,
  keyRef: string | undefined,
): { key: KeyRecord; plaintext: Buffer } {
  const { family, version, body } = peek(blob);
  if (keyRef !== undefined && store.resolve(region, keyRef).family !== family) {
    throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
  }
  const owner = store.key(region, family);
  if (!owner) {
    throw new KmsError(
      'AccessDeniedException',
      'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.',
    );
  }
  requireUsable(owner);
  const material = store.material(family, version);
  if (!material) throw invalidCiphertext();
  return { key: owner, plaintext: open(family, version, material, body, ec) };
}

function generate(withPlaintext: boolean): Operation {
  return async (store, region, req) => {
    grantTokensParam(req);
    const k = store.resolve(region, keyIdParam(req));
    const plaintext = randomBytesPooled(dataKeyLength(req));
    try {
      const blob = sealFor(store, k, plaintext, contextParam(req, 'EncryptionContext'));
      const out: Record<string, unknown> = { CiphertextBlob: blob.toString('base64'), KeyId: k.arn };
      if (withPlaintext) out.Plaintext = plaintext.toString('base64');
      return out;
    } finally {
      plaintext.fill(0);
    }
  };
}

/** GenerateDataKey: a random data key (KeySpec or NumberOfBytes), in plaintext and sealed. */
export const GenerateDataKey: Operation = generate(true);

/** GenerateDataKeyWithoutPlaintext: the sealed data key only. */
export const GenerateDataKeyWithoutPlaintext: Operation = generate(false);

/** Encrypt: up to 4096 bytes of plaintext. */
export const Encrypt: Operation = async (store, region, req) => {
  grantTokensParam(req);
  algorithmParam(req, 'EncryptionAlgorithm');
  const k = store.resolve(region, keyIdParam(req));
  const plaintext = blobParam(req, 'Plaintext', 'plaintext', MAX_PLAINTEXT_BYTES);
  try {
    const blob = sealFor(store, k, plaintext, contextParam(req, 'EncryptionContext'));
    return { CiphertextBlob: blob.toString('base64'), KeyId: k.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  } finally {
    plaintext.fill(0);
  }
};

/** Decrypt: with or without KeyId; answers with the ARN of the key in the request's region. */
export const Decrypt: Operation = async (store, region, req) => {
  grantTokensParam(req);
  algorithmParam(req, 'EncryptionAlgorithm');
  const blob = blobParam(req, 'CiphertextBlob', 'ciphertextBlob', MAX_CIPHERTEXT_BYTES);
  const { key, plaintext } = unseal(store, region, blob, contextParam(req, 'EncryptionContext'), optionalKeyIdParam(req));
  try {
    return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  } finally {
    plaintext.fill(0);
  }
};

/** ReEncrypt: opens under the source key and context, seals under the destination's; the plaintext never leaves. */
export const ReEncrypt: Operation = async (store, region, req) => {
  grantTokensParam(req);
  algorithmParam(req, 'SourceEncryptionAlgorithm');
  algorithmParam(req, 'DestinationEncryptionAlgorithm');
  const blob = blobParam(req, 'CiphertextBlob', 'ciphertextBlob', MAX_CIPHERTEXT_BYTES);
  const dest = store.resolve(region, keyIdParam(req, 'DestinationKeyId', 'destinationKeyId'));
  const src = unseal(
    store,
    region,
    blob,
    contextParam(req, 'SourceEncryptionContext'),
    optionalKeyIdParam(req, 'SourceKeyId', 'sourceKeyId'),
  );
  try {
    const sealed = sealFor(store, dest, src.plaintext, contextParam(req, 'DestinationEncryptionContext'));
    return {
      CiphertextBlob: sealed.toString('base64'),
      SourceKeyId: src.key.arn,
      KeyId: dest.arn,
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  } finally {
    src.plaintext.fill(0);
  }
};
