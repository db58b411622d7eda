/**
 * Multi-region encrypt. Independent keys: GenerateDataKey in the primary region, then Encrypt
 * under every other region's key, concurrently; the encrypt policy says what may be missing.
 * Multi-region keys (replicas of one `mrk-` key): one EDK opens in every replica region, so the
 * call is hedged across replicas like a decrypt. A region whose breaker is open fails at once.
 */
import { randomBytes } from 'node:crypto';
import {
  EnvelopeError,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type KeyFailure,
  rethrowIfAborted,
  isAborted,
} from '@envelope/core';
import { failedAcross, keyFailure } from '@envelope/keyring-kms';
import { sameKey, type KeyArn } from './arn.js';
import { policyNeeds } from './options.js';
import { edkOf, raceRegions, type KeyringContext } from './race.js';

/** The regions that wrapped the data key (EDKs in key order), and why the others did not. */
export interface Wrapped {
  readonly edks: { region: string; edk: EncryptedDataKey }[];
  readonly failures: KeyFailure[];
}

/** True when every key is a replica of the primary (one EDK serves every region). */
export function allReplicas(ctx: KeyringContext): boolean {
  return ctx.keys.every((k) => sameKey(k, ctx.primary));
}

/** Independent keys: the data key under every region's key that answers, checked against the policy. */
export async function wrapEverywhere(ctx: KeyringContext, materials: EncryptionMaterials, signal: AbortSignal): Promise<Wrapped> {
  const edks: { region: string; edk: EncryptedDataKey }[] = [];
  const failures: KeyFailure[] = [];
  let rest = ctx.keys;
  if (!materials.hasDataKey) {
    try {
      edks.push(await generate(ctx, ctx.primary, materials, signal));
    } catch (e) {
      rethrowIfAborted(e);
      failures.push(keyFailure(ctx.primary.arn, ctx.primary.region, e));
      if (ctx.policy === 'all' || ctx.policy === 'primary') {
        throw failedAcross(
          'ENVELOPE_KEYRING_FAILURE',
          'multi-region encrypt failed: the primary region could not generate a data key',
          failures,
        );
      }
      // Quorum: make the data key here and wrap it wherever KMS answers.
      const dk = randomBytes(materials.suite.keyLength);
      try {
        materials.setDataKey(dk);
      } finally {
        dk.fill(0);
      }
    }
    rest = ctx.keys.slice(1);
  }
  const settled = await Promise.allSettled(rest.map((k) => wrap(ctx, k, materials, signal)));
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') edks.push(s.value);
    else failures.push(keyFailure(rest[i]!.arn, rest[i]!.region, s.reason));
  });
  const aborted = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && isAbort(s.reason));
  if (aborted) throw aborted.reason;
  const ok = new Set(edks.map((w) => w.region));
  const need = policyNeeds(ctx.policy, ctx.keys.length);
  if (ok.size < need || (ctx.policy === 'primary' && !ok.has(ctx.primary.region))) {
    throw failedAcross(
      'ENVELOPE_KEYRING_FAILURE',
      `multi-region encrypt failed: only ${ok.size} of ${ctx.keys.length} regions wrapped the data key (policy needs ${need})`,
      failures,
    );
  }
  return { edks, failures };
}

/** Multi-region keys: GenerateDataKey (or Encrypt, with a data key already set) in the best replica region, hedged. */
export async function wrapAnywhere(ctx: KeyringContext, materials: EncryptionMaterials, signal: AbortSignal): Promise<Wrapped> {
  const generating = !materials.hasDataKey;
  const dk = generating ? undefined : materials.getDataKey();
  try {
    const won = await raceRegions(ctx, generating ? 'GenerateDataKey' : 'Encrypt', ctx.keys, signal, async (key, s) => {
      if (dk) {
        const r = await ctx.kms.encrypt({
          region: key.region,
          keyId: key.arn,
          plaintext: dk,
          encryptionContext: materials.encryptionContext,
          signal: s,
        });
        return { region: key.region, keyArn: r.keyArn, ciphertext: r.ciphertext, secret: new Uint8Array(0) };
      }
      const r = await ctx.kms.generateDataKey({
        region: key.region,
        keyId: key.arn,
        numberOfBytes: materials.suite.keyLength,
        encryptionContext: materials.encryptionContext,
        signal: s,
      });
      if (r.plaintext.byteLength !== materials.suite.keyLength) {
        r.plaintext.fill(0);
        throw wrongLength(key);
      }
      return { region: key.region, keyArn: r.keyArn, ciphertext: r.ciphertext, secret: r.plaintext };
    });
    if (generating) {
      try {
        materials.setDataKey(won.secret);
      } finally {
        won.secret.fill(0);
      }
    }
    return { edks: [{ region: won.region, edk: edkOf(won.keyArn, won.ciphertext) }], failures: [] };
  } catch (e) {
    if (isAbort(e) || !(e instanceof EnvelopeError)) throw e;
    throw failedAcross('ENVELOPE_KEYRING_FAILURE', 'multi-region encrypt failed: no replica region wrapped the data key', e.causes, e);
  } finally {
    dk?.fill(0);
  }
}

async function generate(ctx: KeyringContext, key: KeyArn, materials: EncryptionMaterials, signal: AbortSignal) {
  const r = await ctx.caller.call(
    'GenerateDataKey',
    key,
    signal,
    (s) =>
      ctx.kms.generateDataKey({
        region: key.region,
        keyId: key.arn,
        numberOfBytes: materials.suite.keyLength,
        encryptionContext: materials.encryptionContext,
        signal: s,
      }),
    (late) => late.plaintext.fill(0),
  );
  try {
    if (r.plaintext.byteLength !== materials.suite.keyLength) throw wrongLength(key);
    materials.setDataKey(r.plaintext);
  } finally {
    r.plaintext.fill(0);
  }
  return { region: key.region, edk: edkOf(r.keyArn, r.ciphertext) };
}

async function wrap(ctx: KeyringContext, key: KeyArn, materials: EncryptionMaterials, signal: AbortSignal) {
  const dk = materials.getDataKey();
  try {
    const r = await ctx.caller.call('Encrypt', key, signal, (s) =>
      ctx.kms.encrypt({ region: key.region, keyId: key.arn, plaintext: dk, encryptionContext: materials.encryptionContext, signal: s }),
    );
    return { region: key.region, edk: edkOf(r.keyArn, r.ciphertext) };
  } finally {
    dk.fill(0);
  }
}

function wrongLength(key: KeyArn): EnvelopeError {
  return new EnvelopeError('ENVELOPE_KMS', `GenerateDataKey with ${key.arn} returned a key of the wrong length`, {
    causes: [{ key: key.arn, region: key.region, reason: 'MalformedResponse' }],
  });
}

function isAbort(e: unknown): boolean {
  return isAborted(e);
}
