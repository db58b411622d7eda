/**
 * ECDSA message signatures (spec: framework/transitive-requirements.md#ecdsa)
 * (spec: data-format/message-footer.md#footer-structure). The verification key travels in the
 * encryption context as the base64 of the compressed SEC1 point.
 *
 * Points move between the context and OpenSSL as SubjectPublicKeyInfo DER built around the
 * point: OpenSSL decodes (and validates) compressed points itself, and this avoids a JWK
 * round trip that cost a sixth of a signed message's decrypt.
 */
import { createPublicKey, generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { EnvelopeError, invalidArgument, malformed } from '../errors.js';
import type { CurveName } from '../suites.js';

/** SPKI DER prefixes (algorithm id-ecPublicKey + named curve, BIT STRING header). */
const SPKI_COMPRESSED: Record<CurveName, Buffer> = {
  'P-256': Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
  'P-384': Buffer.from('3046301006072a8648ce3d020106052b81040022033200', 'hex'),
};
const COORD_LEN: Record<CurveName, number> = { 'P-256': 32, 'P-384': 48 };

export interface SigningKeyPair {
  privateKey: KeyObject;
  /** base64 of the compressed public point, for the `aws-crypto-public-key` context value. */
  publicKeyBase64: string;
}

/**
 * A fresh signing key pair for one message. Key generation is most of a signed message's cost
 * (P-384: ~0.9 ms), so pairs are generated ahead of use on libuv's thread pool
 * (`crypto.generateKeyPair`), off the event loop: a call takes a ready pair, or waits for one
 * already being generated, and asks for a replacement; with nothing ready or in flight (the pool
 * turned off) it generates on the calling thread. Every pair signs exactly one message; see
 * {@link setSigningKeyPoolSize}.
 */
export async function generateSigningKey(curve: CurveName): Promise<SigningKeyPair> {
  return (await pool.take(curve)) ?? generateSigningKeySync(curve);
}

/** A fresh signing key pair, generated on the calling thread. */
export function generateSigningKeySync(curve: CurveName): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return { privateKey, publicKeyBase64: compressPublicKey(publicKey, curve).toString('base64') };
}

/**
 * How many signing key pairs per curve are kept generated ahead of use (default 4; at most 64).
 * 0 turns the pool off and drops the pairs it holds: every signed message then generates its
 * key on the calling thread. Pooled private keys live in OpenSSL memory until used or dropped,
 * like any key object; no pair is ever used twice.
 */
export function setSigningKeyPoolSize(size: number): void {
  if (!Number.isInteger(size) || size < 0 || size > 64)
    throw invalidArgument('setSigningKeyPoolSize', 'the pool size must be an integer in 0..64');
  pool.resize(size);
}

type Waiter = (pair: SigningKeyPair | undefined) => void;

interface CurveState {
  /** Pairs ready for use. */
  ready: SigningKeyPair[];
  /** Generations running on the thread pool. */
  inFlight: number;
  /** Callers waiting for a generation in flight. */
  waiting: Waiter[];
  /** Resolved when nothing is in flight (tests wait on this rather than on time). */
  idle: (() => void)[];
}

/** Longest a signed encrypt waits for a pair in flight before generating its own. */
const WAIT_MS = 20;

class SigningKeyPool {
  #size = 4;
  /** Per curve: pairs ready for use, generations in flight, and callers waiting for one. */
  #curves = new Map<CurveName, CurveState>();

  take(curve: CurveName): Promise<SigningKeyPair | undefined> | undefined {
    if (this.#size === 0) return undefined;
    const state = this.#state(curve);
    const pair = state.ready.pop();
    // Keep size pairs ready or in flight beyond the callers already waiting.
    for (let n = state.ready.length + state.inFlight - state.waiting.length - (pair ? 0 : 1); n < this.#size; n++)
      this.#generate(curve, state);
    if (pair) return Promise.resolve(pair);
    return new Promise((resolve) => {
      // A busy thread pool (slow file systems, DNS) must not hold a message up for long: after
      // WAIT_MS the caller generates its own pair; the generation it waited for refills the pool.
      const timer = setTimeout(() => {
        const i = state.waiting.indexOf(waiter);
        if (i >= 0) state.waiting.splice(i, 1);
        resolve(undefined);
      }, WAIT_MS);
      timer.unref();
      const waiter: Waiter = (p) => {
        clearTimeout(timer);
        resolve(p);
      };
      state.waiting.push(waiter);
    });
  }

  resize(size: number): void {
    this.#size = size;
    const old = this.#curves;
    this.#curves = new Map();
    // Callers waiting on a dropped generation generate their own pair.
    for (const state of old.values()) for (const w of state.waiting.splice(0)) w(undefined);
  }

  #state(curve: CurveName) {
    let state = this.#curves.get(curve);
    if (!state) this.#curves.set(curve, (state = { ready: [], inFlight: 0, waiting: [], idle: [] }));
    return state;
  }

  /** Resolves once no generation for `curve` is in flight (at once if none is). */
  whenIdle(curve: CurveName): Promise<void> {
    const state = this.#state(curve);
    return state.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => state.idle.push(resolve));
  }

  #generate(curve: CurveName, state: CurveState): void {
    state.inFlight++;
    generateKeyPair('ec', { namedCurve: curve }, (err, publicKey, privateKey) => {
      state.inFlight--;
      // A failed background generation is not an error of any message: a waiting caller falls
      // back to generating on its own thread, where a failure is reported to it.
      let pair: SigningKeyPair | undefined;
      try {
        if (!err) pair = { privateKey, publicKeyBase64: compressPublicKey(publicKey, curve).toString('base64') };
      } catch {
        // Same as a failed generation (and never thrown out of a thread-pool callback).
      }
      const waiter = state.waiting.shift();
      if (waiter) waiter(pair);
      else if (pair && this.#curves.get(curve) === state && state.ready.length < this.#size) state.ready.push(pair);
      if (state.inFlight === 0) for (const done of state.idle.splice(0)) done();
    });
  }
}

const pool = new SigningKeyPool();

/**
 * Internal (tests): resolves once the pool has no generation for `curve` in flight, i.e. it has
 * refilled as far as it will. Not exported from the package.
 */
export function signingKeyPoolIdle(curve: CurveName): Promise<void> {
  return pool.whenIdle(curve);
}

/** The compressed SEC1 point of an EC public key: 02/03 (parity of y) ‖ x. */
export function compressPublicKey(publicKey: KeyObject, curve: CurveName): Buffer {
  const n = COORD_LEN[curve];
  // The JWK export is far cheaper than a DER one (no encoder): x and y, each n bytes.
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  if (jwk.kty !== 'EC' || x.byteLength !== n || y.byteLength !== n)
    throw new EnvelopeError('ENVELOPE_INTERNAL', 'unexpected EC public key encoding');
  const out = Buffer.alloc(1 + n);
  out[0] = 2 + (y[n - 1]! & 1);
  x.copy(out, 1);
  return out;
}

/** Parses the context's verification key; anything malformed is a malformed message. */
export function parseVerificationKey(base64: string, curve: CurveName): KeyObject {
  const n = COORD_LEN[curve];
  const compressed = Buffer.from(base64, 'base64');
  if (compressed.byteLength !== n + 1 || compressed.toString('base64') !== base64 || (compressed[0] !== 2 && compressed[0] !== 3)) {
    throw malformed('invalid verification key in encryption context');
  }
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_COMPRESSED[curve], compressed]), format: 'der', type: 'spki' });
  } catch (e) {
    throw new EnvelopeError('ENVELOPE_MALFORMED_MESSAGE', 'malformed message: invalid verification key in encryption context', {
      cause: e,
    });
  }
}
