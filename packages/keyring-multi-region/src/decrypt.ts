/**
 * Multi-region decrypt: every (EDK, configured key) pair that can open the data key (for a
 * multi-region key, every replica region) becomes a candidate; candidates are raced by region
 * health (see race.ts). Only the first EDK per configured key is used, so a forged header with
 * many EDKs costs at most one call per configured region (issue 15.11).
 */
import { EnvelopeError, type DecryptionMaterials, type EncryptedDataKey } from '@envelope/core';
import { KMS_PROVIDER_ID } from '@envelope/keyring-kms';
import { parseKeyArn, sameKey, type KeyArn } from './arn.js';
import { raceRegions, type KeyringContext } from './race.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The configured key that opens each usable EDK (first EDK per key), in the keyring's key order. */
export function decryptPairs(keys: readonly KeyArn[], edks: readonly EncryptedDataKey[]): Map<KeyArn, EncryptedDataKey> {
  const pairs = new Map<KeyArn, EncryptedDataKey>();
  for (const edk of edks) {
    if (edk.providerId !== KMS_PROVIDER_ID) continue;
    let text: string;
    try {
      text = utf8.decode(edk.providerInfo);
    } catch {
      continue;
    }
    const arn = parseKeyArn(text);
    if (!arn) continue;
    for (const key of keys) if (!pairs.has(key) && sameKey(key, arn)) pairs.set(key, edk);
  }
  return new Map([...keys].filter((k) => pairs.has(k)).map((k) => [k, pairs.get(k)!]));
}

/** Unwraps the data key through the healthiest region that answers; sets it on `materials`. */
export async function unwrapAnywhere(
  ctx: KeyringContext,
  materials: DecryptionMaterials,
  pairs: Map<KeyArn, EncryptedDataKey>,
  signal: AbortSignal,
): Promise<{ region: string; keyArn: string; failover: boolean; attempts: number }> {
  const ec = materials.encryptionContext;
  const won = await raceRegions(ctx, 'Decrypt', [...pairs.keys()], signal, async (key, s) => {
    const edk = pairs.get(key)!;
    const r = await ctx.kms.decrypt({ region: key.region, keyArn: key.arn, ciphertext: edk.ciphertext, encryptionContext: ec, signal: s });
    if (r.plaintext.byteLength !== materials.suite.keyLength) {
      r.plaintext.fill(0);
      throw new EnvelopeError('ENVELOPE_KMS', `Decrypt with ${key.arn} returned a key of the wrong length`, {
        causes: [{ key: key.arn, region: key.region, reason: 'MalformedResponse' }],
      });
    }
    return { region: key.region, keyArn: key.arn, ciphertext: edk.ciphertext, secret: r.plaintext };
  });
  try {
    materials.setDataKey(won.secret);
  } finally {
    won.secret.fill(0);
  }
  return { region: won.region, keyArn: won.keyArn, failover: won.region !== won.first.region, attempts: won.attempts };
}
