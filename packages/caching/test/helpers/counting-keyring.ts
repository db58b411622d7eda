/**
 * A tiny AES-256-GCM keyring for these tests (the idea of core's test keyring, not an import of
 * it): counts calls, keeps the materials it filled (the ones the cache stores), and can be made
 * slow or failing. Slowness is counted in turns of the event loop, never in wall-clock time, and
 * tests wait for its calls to end with {@link CountingKeyring.idle}, not with sleeps.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  getSuite,
  type EncryptionMaterialsRequest,
  type DecryptionMaterialsRequest,
  EnvelopeError,
  serializeEncryptionContext,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type Keyring,
  type KeyringCallOptions,
} from '@envelope/core';

export class CountingKeyring implements Keyring {
  encrypts = 0;
  decrypts = 0;
  /** Fail every call with ENVELOPE_KMS while set. */
  fail = false;
  /**
   * Each call yields this many turns of the event loop (setImmediate) before it answers, so that
   * concurrent callers pile up behind it. No time passes on any clock.
   */
  latencyTurns = 0;
  /** Runs as every call is about to answer (e.g. to move a fake clock by the call's "duration"). */
  beforeAnswer: (() => void) | undefined;
  /** Calls still running. */
  inFlight = 0;
  #idle: (() => void)[] = [];
  /** Materials this keyring filled: what a caching manager stores. */
  readonly encrypted: EncryptionMaterials[] = [];
  readonly decrypted: DecryptionMaterials[] = [];
  /** Signals the keyring was called with. */
  readonly signals: (AbortSignal | undefined)[] = [];

  constructor(private readonly key: Buffer = randomBytes(32)) {}

  onEncrypt(m: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    return this.#counted(() => this.#encrypt(m, options));
  }

  onDecrypt(m: DecryptionMaterials, edks: readonly EncryptedDataKey[], options?: KeyringCallOptions): Promise<DecryptionMaterials> {
    return this.#counted(() => this.#decrypt(m, edks, options));
  }

  async #encrypt(m: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    this.encrypts++;
    this.signals.push(options?.signal);
    await this.#wait(options?.signal);
    if (!m.hasDataKey) {
      const fresh = randomBytes(m.suite.keyLength);
      m.setDataKey(fresh);
      fresh.fill(0);
    }
    const dk = m.getDataKey();
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(serializeEncryptionContext(m.encryptionContext));
    m.addEncryptedDataKey({
      providerId: 'count',
      providerInfo: Buffer.from('k'),
      ciphertext: Buffer.concat([iv, c.update(dk), c.final(), c.getAuthTag()]),
    });
    dk.fill(0);
    this.encrypted.push(m);
    return m;
  }

  async #decrypt(m: DecryptionMaterials, edks: readonly EncryptedDataKey[], options?: KeyringCallOptions): Promise<DecryptionMaterials> {
    this.decrypts++;
    this.signals.push(options?.signal);
    await this.#wait(options?.signal);
    const e = edks.find((x) => x.providerId === 'count');
    if (!e) return m;
    const d = createDecipheriv('aes-256-gcm', this.key, e.ciphertext.subarray(0, 12));
    d.setAAD(serializeEncryptionContext(m.encryptionContext));
    d.setAuthTag(e.ciphertext.subarray(e.ciphertext.length - 16));
    const dk = Buffer.concat([d.update(e.ciphertext.subarray(12, e.ciphertext.length - 16)), d.final()]);
    m.setDataKey(dk);
    dk.fill(0);
    this.decrypted.push(m);
    return m;
  }

  /** Resolves once no call of this keyring is running. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.#idle.push(resolve));
  }

  async #wait(signal: AbortSignal | undefined): Promise<void> {
    for (let i = 0; i < this.latencyTurns; i++) {
      await turn();
      if (signal?.aborted) throw new EnvelopeError('ENVELOPE_ABORTED', 'keyring call aborted');
    }
    this.beforeAnswer?.();
    if (this.fail) throw new EnvelopeError('ENVELOPE_KMS', 'injected failure');
  }

  /** Counts a call in and out, so that {@link idle} can say when all have ended. */
  async #counted<T>(call: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await call();
    } finally {
      if (--this.inFlight === 0) for (const done of this.#idle.splice(0)) done();
    }
  }
}

/** One turn of the event loop: every promise callback already queued runs first. No time passes. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A clock the test moves by hand. */
export function fakeClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** Encryption-request shorthand: suite 0x0478, committing policy, `bytes` long. */
export function encRequest(bytes: number | undefined = 1024, o: Record<string, unknown> = {}): EncryptionMaterialsRequest {
  return {
    encryptionContext: {},
    suite: getSuite(0x0478),
    commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT',
    plaintextLength: bytes,
    ...o,
  };
}

/** The decrypt request for a message made with `m` (its suite, context and EDKs). */
export function decRequest(m: EncryptionMaterials, o: Record<string, unknown> = {}): DecryptionMaterialsRequest {
  return {
    suite: m.suite,
    encryptionContext: m.encryptionContext,
    encryptedDataKeys: m.encryptedDataKeys,
    commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT',
    ...o,
  };
}
