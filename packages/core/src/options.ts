/** Validation of the public encrypt/decrypt options, at the edge. */
import { invalidArgument } from './errors.js';
import { parseCommitmentPolicy, type CommitmentPolicy } from './commitment-policy.js';
import { checkEncryptionContext, type EncryptionContext } from './encryption-context.js';
import { getSuite, type AlgorithmSuite } from './suites.js';
import { DefaultMaterialsManager } from './materials/default-materials-manager.js';
import { DEFAULT_MAX_HEADER_LENGTH } from './format/header.js';
import type { MaterialsManager } from './materials/materials-manager.js';
import type { Keyring } from './keyring/keyring.js';

/** Default frame length (spec: client-apis/encrypt.md#frame-length). */
export const DEFAULT_FRAME_LENGTH = 4096;
/**
 * Streams default to larger frames: a frame's fixed cost (a cipher object, its tag, ~7 µs) is
 * half of a 4096-byte frame's time but a few percent of a 65536-byte one; every SDK reads any
 * frame length. Buffers keep the SDKs' 4096.
 */
export const DEFAULT_STREAM_FRAME_LENGTH = 65536;
/** Default bound on EDKs per message, read or written. */
export const DEFAULT_MAX_ENCRYPTED_DATA_KEYS = 100;
/** Default bound on a frame (or non-framed body) a stream will buffer: 64 MiB. */
export const DEFAULT_MAX_FRAME_LENGTH = 64 * 1024 * 1024;

/** Either a keyring (wrapped in the default materials manager) or a materials manager. */
export type KeySource = { keyring: Keyring; materialsManager?: undefined } | { materialsManager: MaterialsManager; keyring?: undefined };

export interface CommonOptions {
  /** Defaults to REQUIRE_ENCRYPT_REQUIRE_DECRYPT. */
  commitmentPolicy?: CommitmentPolicy;
  /** Refuse messages with more encrypted data keys. Default 100. */
  maxEncryptedDataKeys?: number;
  /** Cancels keyring calls (KMS) and stream processing. */
  signal?: AbortSignal;
}

export type EncryptOptions = KeySource &
  CommonOptions & {
    /** Authenticated, stored in the header (except required-context keys). */
    encryptionContext?: Record<string, string>;
    /** Suite id (e.g. 0x0478 or "0x0478"); default 0x0578 (0x0378 under FORBID_ENCRYPT_ALLOW_DECRYPT). */
    suite?: number | string;
    /** Plaintext bytes per frame, 1..2^32-1. Default 4096 for buffers, 65536 for streams (DEFAULT_STREAM_FRAME_LENGTH). */
    frameLength?: number;
  };

export type DecryptOptions = KeySource &
  CommonOptions & {
    /**
     * Pairs the message must carry. Keys present in the header must have these values; other
     * keys are the reproduced required-context pairs.
     */
    encryptionContext?: Record<string, string>;
    /** Largest frame (or non-framed body) accepted. Default 64 MiB. */
    maxFrameLength?: number;
    /** Largest header accepted, in bytes, whatever the EDK count allows. Default 1 MiB (DEFAULT_MAX_HEADER_LENGTH). */
    maxHeaderLength?: number;
  };

export interface CheckedCommon {
  materialsManager: MaterialsManager;
  commitmentPolicy: CommitmentPolicy;
  maxEncryptedDataKeys: number;
  signal: AbortSignal | undefined;
}

function checkCommon(options: unknown, what: string): CheckedCommon {
  if (!options || typeof options !== 'object')
    throw invalidArgument('options', `${what} needs an options object with a keyring or materialsManager`);
  const o = options as Partial<EncryptOptions & DecryptOptions>;
  if ((o.keyring === undefined) === (o.materialsManager === undefined)) {
    throw invalidArgument('options', 'give exactly one of keyring or materialsManager');
  }
  const materialsManager = o.materialsManager ?? new DefaultMaterialsManager(o.keyring!);
  if (typeof materialsManager.getEncryptionMaterials !== 'function' || typeof materialsManager.decryptMaterials !== 'function') {
    throw invalidArgument('materialsManager', 'expected a MaterialsManager');
  }
  const maxEncryptedDataKeys = integerOption(o.maxEncryptedDataKeys, 'maxEncryptedDataKeys', DEFAULT_MAX_ENCRYPTED_DATA_KEYS, 1, 0xffff);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArgument('signal', 'expected an AbortSignal');
  return { materialsManager, commitmentPolicy: parseCommitmentPolicy(o.commitmentPolicy), maxEncryptedDataKeys, signal: o.signal };
}

export interface CheckedEncryptOptions extends CheckedCommon {
  encryptionContext: EncryptionContext;
  suite: AlgorithmSuite | undefined;
  frameLength: number;
}

export function checkEncryptOptions(options: EncryptOptions): CheckedEncryptOptions {
  const common = checkCommon(options, 'encrypt');
  const frameLength = integerOption(options.frameLength, 'frameLength', DEFAULT_FRAME_LENGTH, 1, 0xffffffff);
  let suite: AlgorithmSuite | undefined;
  if (options.suite !== undefined) {
    try {
      suite = getSuite(options.suite);
    } catch (e) {
      throw invalidArgument('suite', (e as Error).message, { cause: e });
    }
  }
  return { ...common, encryptionContext: checkEncryptionContext(options.encryptionContext), suite, frameLength };
}

export interface CheckedDecryptOptions extends CheckedCommon {
  encryptionContext: EncryptionContext | undefined;
  maxFrameLength: number;
  maxHeaderLength: number;
}

export function checkDecryptOptions(options: DecryptOptions): CheckedDecryptOptions {
  const common = checkCommon(options, 'decrypt');
  return {
    ...common,
    encryptionContext: options.encryptionContext === undefined ? undefined : checkEncryptionContext(options.encryptionContext),
    maxFrameLength: positiveInteger(options.maxFrameLength, 'maxFrameLength', DEFAULT_MAX_FRAME_LENGTH),
    maxHeaderLength: positiveInteger(options.maxHeaderLength, 'maxHeaderLength', DEFAULT_MAX_HEADER_LENGTH),
  };
}

/**
 * A size or count option: a safe integer of at least `min`, or the default when undefined.
 * NaN, infinities, fractions and negatives are refused, naming the option.
 */
export function integerOption(value: unknown, param: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(
      param,
      max === Number.MAX_SAFE_INTEGER ? `expected an integer ≥ ${min}` : `expected an integer from ${min} to ${max}`,
    );
  }
  return value;
}

function positiveInteger(value: unknown, param: string, fallback: number): number {
  return integerOption(value, param, fallback, 1);
}
