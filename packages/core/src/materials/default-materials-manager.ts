/** The default materials manager (spec: framework/default-cmm.md#default-cryptographic-materials-manager). */
import { EnvelopeError, invalidArgument } from '../errors.js';
import { assertDecryptAllowed, assertEncryptAllowed } from '../commitment-policy.js';
import { PUBLIC_KEY_CONTEXT_KEY, RESERVED_PREFIX, withPair, type EncryptionContext } from '../encryption-context.js';
import { getSuite, type AlgorithmSuite } from '../suites.js';
import { generateSigningKey, parseVerificationKey } from '../crypto/signature.js';
import { DecryptionMaterials, EncryptionMaterials } from './materials.js';
import type { DecryptionMaterialsRequest, EncryptionMaterialsRequest, MaterialsManager } from './materials-manager.js';
import type { Keyring } from '../keyring/keyring.js';
import type { EncryptedDataKey } from './encrypted-data-key.js';

/**
 * Wraps a keyring: picks the suite, makes the signing key for signed suites, asks the keyring
 * for the data key and EDKs, and on decrypt merges the caller's context and checks it.
 */
export class DefaultMaterialsManager implements MaterialsManager {
  constructor(readonly keyring: Keyring) {
    if (!keyring || typeof keyring.onEncrypt !== 'function' || typeof keyring.onDecrypt !== 'function') {
      throw invalidArgument('keyring', 'expected a Keyring');
    }
  }

  async getEncryptionMaterials(request: EncryptionMaterialsRequest): Promise<EncryptionMaterials> {
    const suite = request.suite ?? defaultSuiteFor(request.commitmentPolicy);
    assertEncryptAllowed(request.commitmentPolicy, suite);
    for (const k of Object.keys(request.encryptionContext)) {
      if (k.startsWith(RESERVED_PREFIX))
        throw invalidArgument(`encryptionContext.${k}`, `keys beginning with ${RESERVED_PREFIX} are reserved`);
    }
    const required = request.requiredEncryptionContextKeys ?? [];
    for (const k of required) {
      if (!Object.prototype.hasOwnProperty.call(request.encryptionContext, k)) {
        throw invalidArgument('encryptionContext', `required key ${JSON.stringify(k)} is missing`);
      }
    }
    let ec: EncryptionContext = request.encryptionContext;
    let signingKey;
    if (suite.signature) {
      const pair = await generateSigningKey(suite.signature.curve);
      signingKey = pair.privateKey;
      ec = withPair(ec, PUBLIC_KEY_CONTEXT_KEY, pair.publicKeyBase64);
    }
    const materials = new EncryptionMaterials({ suite, encryptionContext: ec, requiredEncryptionContextKeys: required, signingKey });
    try {
      await this.keyring.onEncrypt(materials, { signal: request.signal });
      if (!materials.hasDataKey) throw new EnvelopeError('ENVELOPE_KEYRING_FAILURE', 'keyring did not produce a data key');
      if (materials.encryptedDataKeys.length === 0)
        throw new EnvelopeError('ENVELOPE_KEYRING_FAILURE', 'keyring did not produce an encrypted data key');
    } catch (e) {
      materials.zeroize();
      throw e;
    }
    return materials;
  }

  async decryptMaterials(request: DecryptionMaterialsRequest): Promise<DecryptionMaterials> {
    assertDecryptAllowed(request.commitmentPolicy, request.suite);
    const { encryptionContext, requiredKeys } = mergeReproducedContext(request.encryptionContext, request.reproducedEncryptionContext);
    const suite = request.suite;
    let verificationKey;
    const pub = encryptionContext[PUBLIC_KEY_CONTEXT_KEY];
    if (suite.signature) {
      if (pub === undefined)
        throw new EnvelopeError('ENVELOPE_MALFORMED_MESSAGE', 'malformed message: signed suite without a verification key');
      verificationKey = parseVerificationKey(pub, suite.signature.curve);
    } else if (pub !== undefined) {
      throw new EnvelopeError('ENVELOPE_MALFORMED_MESSAGE', 'malformed message: unsigned suite with a verification key');
    }
    const materials = new DecryptionMaterials({ suite, encryptionContext, requiredEncryptionContextKeys: requiredKeys, verificationKey });
    try {
      await this.keyring.onDecrypt(materials, request.encryptedDataKeys, { signal: request.signal });
    } catch (e) {
      materials.zeroize();
      throw e;
    }
    if (!materials.hasDataKey) {
      throw new EnvelopeError(
        'ENVELOPE_NO_DECRYPTABLE_KEY',
        `no keyring could decrypt any of the ${request.encryptedDataKeys.length} encrypted data keys ` +
          `(none is owned by this keyring; providers: ${providerSummary(request.encryptedDataKeys)})`,
      );
    }
    return materials;
  }
}

/**
 * The distinct provider ids of a message's EDKs, for an error message. They come from the
 * message, so they are bounded (at most 5, each at most 40 characters) and stripped of control
 * characters: an error must not carry megabytes or terminal escapes from a forged header.
 */
function providerSummary(edks: readonly EncryptedDataKey[]): string {
  const ids = [...new Set(edks.map((e) => e.providerId))];
  // eslint-disable-next-line no-control-regex
  const clean = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…` : s).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const shown = ids.slice(0, 5).map((id) => JSON.stringify(clean(id)));
  return ids.length > 5 ? `${shown.join(', ')} and ${ids.length - 5} more` : shown.join(', ');
}

function defaultSuiteFor(policy: EncryptionMaterialsRequest['commitmentPolicy']): AlgorithmSuite {
  return getSuite(policy === 'FORBID_ENCRYPT_ALLOW_DECRYPT' ? 0x0378 : 0x0578);
}

/**
 * Merges the caller's context into the header's: overlapping keys must agree; the caller's other
 * pairs are required-context pairs (authenticated by the header tag, not stored in the header).
 */
export function mergeReproducedContext(
  header: EncryptionContext,
  reproduced: EncryptionContext | undefined,
): { encryptionContext: EncryptionContext; requiredKeys: string[] } {
  if (!reproduced) return { encryptionContext: header, requiredKeys: [] };
  const merged: Record<string, string> = Object.assign(Object.create(null), header);
  const requiredKeys: string[] = [];
  for (const [k, v] of Object.entries(reproduced)) {
    if (Object.prototype.hasOwnProperty.call(header, k)) {
      if (header[k] !== v) {
        throw new EnvelopeError('ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH', `encryption context mismatch for key ${JSON.stringify(k)}`);
      }
    } else {
      merged[k] = v;
      requiredKeys.push(k);
    }
  }
  return { encryptionContext: Object.freeze(merged), requiredKeys };
}
