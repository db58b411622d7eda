/** Keyrings, inputs and stream helpers shared by the zeroization tests (test/zeroization-*.test.ts). */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EnvelopeError, encrypt, getSuite, type Keyring } from '@envelope/core';
import { RawAesKeyring, RawRsaKeyring } from '@envelope/keyring-local';
import { cap } from './capture.js';

export const aes = new RawAesKeyring({ keyNamespace: 'zero', keyName: 'aes', wrappingKey: randomBytes(32) });
export const otherAes = new RawAesKeyring({ keyNamespace: 'zero', keyName: 'aes', wrappingKey: randomBytes(32) });
export const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const rsa = new RawRsaKeyring({
  keyNamespace: 'zero',
  keyName: 'rsa',
  publicKey: rsaPair.publicKey,
  privateKey: rsaPair.privateKey,
  padding: 'oaep-sha256',
});
const otherRsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const wrongRsa = new RawRsaKeyring({
  keyNamespace: 'zero',
  keyName: 'rsa',
  publicKey: otherRsaPair.publicKey,
  privateKey: otherRsaPair.privateKey,
  padding: 'oaep-sha256',
});

export const boom = (): EnvelopeError =>
  new EnvelopeError('ENVELOPE_KEYRING_FAILURE', 'injected keyring failure', { causes: [{ key: 'failing', reason: 'injected' }] });
/** Fails every call, after doing nothing. */
export const failing: Keyring = {
  onEncrypt: async () => {
    throw boom();
  },
  onDecrypt: async () => {
    throw boom();
  },
};
/** Does the inner keyring's work (so a data key is set), then fails: a keyring error mid-way. */
export const failsAfter = (inner: Keyring): Keyring => ({
  onEncrypt: async (m, o) => {
    await inner.onEncrypt(m, o);
    throw boom();
  },
  onDecrypt: async (m, e, o) => {
    await inner.onDecrypt(m, e, o);
    throw boom();
  },
});
/** A keyring held by the test: see {@link held}. */
export interface HeldKeyring {
  readonly keyring: Keyring;
  /** Resolves when the first call has arrived (and is waiting for release). */
  readonly entered: Promise<void>;
  /** Lets every call, present and future, go on to the inner keyring. */
  release(): void;
  /** Resolves when a released call has had its answer from the inner keyring. */
  readonly finished: Promise<void>;
}

/**
 * The inner keyring once the test calls `release()`, ignoring any signal (a keyring that cannot
 * be cancelled): the test decides when its answer comes, with no timer involved.
 */
export function held(inner: Keyring): HeldKeyring {
  let enter!: () => void;
  let open!: () => void;
  let finish!: () => void;
  const entered = new Promise<void>((r) => (enter = r));
  const released = new Promise<void>((r) => (open = r));
  const finished = new Promise<void>((r) => (finish = r));
  const after = async <T>(call: () => Promise<T>): Promise<T> => {
    enter();
    await released;
    try {
      return await call();
    } finally {
      finish();
    }
  };
  return {
    keyring: { onEncrypt: (m) => after(() => inner.onEncrypt(m)), onDecrypt: (m, e) => after(() => inner.onDecrypt(m, e)) },
    entered,
    release: open,
    finished,
  };
}

export const pt = Buffer.from('zeroization audit: the plaintext of the message');
export const big = Buffer.alloc(50_000, 0x5a);
export const ALLOW = 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' as const;
export const policyFor = (suite: number) =>
  getSuite(suite).commitment ? ('REQUIRE_ENCRYPT_REQUIRE_DECRYPT' as const) : ('FORBID_ENCRYPT_ALLOW_DECRYPT' as const);

export function sink(out: Buffer[] = []): Writable {
  return new Writable({
    write(c: Buffer, _e, cb) {
      out.push(c);
      cb();
    },
  });
}
export async function throughNode(input: Uint8Array[], t: Transform): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(input), t, sink(out));
  return Buffer.concat(out);
}
export function chunks(b: Uint8Array, n: number): Uint8Array[] {
  const out = [];
  for (let i = 0; i < b.byteLength; i += n) out.push(b.subarray(i, i + n));
  return out;
}
export function webSource(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
}
export async function collectWeb(s: ReadableStream<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const p of s as unknown as AsyncIterable<Uint8Array>) out.push(p);
  return Buffer.concat(out);
}
/** Encrypts without capturing (the setup of a decrypt test), then clears the log. */
export async function quietEncrypt(plaintext: Uint8Array, o: Parameters<typeof encrypt>[1]): Promise<Uint8Array> {
  cap.state.on = false;
  try {
    return (await encrypt(plaintext, o)).ciphertext;
  } finally {
    cap.state.on = true;
  }
}
