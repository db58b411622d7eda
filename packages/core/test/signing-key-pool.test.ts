import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPublicKey, createVerify, pbkdf2, sign } from 'node:crypto';
import { decrypt, encrypt, EnvelopeError, setSigningKeyPoolSize } from '../src/index.js';
import { compressPublicKey, generateSigningKey, parseVerificationKey, signingKeyPoolIdle } from '../src/crypto/signature.js';
import { TestKeyring } from './helpers/test-keyring.js';

/** Waits until the pool has refilled (no generation in flight): an event, not a delay. */
const refilled = (curve: 'P-256' | 'P-384' = 'P-384') => signingKeyPoolIdle(curve);

describe('signing key pool', () => {
  afterEach(() => setSigningKeyPoolSize(4));

  it('hands out working, distinct key pairs generated ahead of use (each used once)', async () => {
    setSigningKeyPoolSize(4);
    await generateSigningKey('P-384'); // the first take starts the pool
    await refilled();
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const pair = await generateSigningKey('P-384');
      expect(seen.has(pair.publicKeyBase64)).toBe(false);
      seen.add(pair.publicKeyBase64);
      // The advertised public key verifies what the private key signs.
      const sig = sign('sha384', Buffer.from('m'), pair.privateKey);
      const v = createVerify('sha384').update('m');
      expect(v.verify(parseVerificationKey(pair.publicKeyBase64, 'P-384'), sig)).toBe(true);
      if (i % 3 === 0) await refilled();
    }
  });

  it('callers beyond the ready pairs wait for generations in flight; a burst gets distinct pairs', async () => {
    setSigningKeyPoolSize(2);
    const pairs = await Promise.all(Array.from({ length: 24 }, () => generateSigningKey('P-256')));
    expect(new Set(pairs.map((p) => p.publicKeyBase64)).size).toBe(24);
  });

  it('resizing releases waiting callers, which then generate their own pairs', async () => {
    setSigningKeyPoolSize(1);
    const waiting = Promise.all(Array.from({ length: 6 }, () => generateSigningKey('P-384')));
    setSigningKeyPoolSize(0);
    const pairs = await waiting;
    expect(new Set(pairs.map((p) => p.publicKeyBase64)).size).toBe(6);
  });

  it('a busy thread pool does not hold a signed encrypt up: the caller generates its own pair after a short wait', async () => {
    setSigningKeyPoolSize(4); // drops any ready pairs: the next take finds the pool empty
    // Occupy every thread-pool thread (default 4): two rounds of work queued ahead of any generation.
    let finished = 0;
    const busy = Array.from({ length: 8 }, () => new Promise((r) => pbkdf2('p', 's', 100_000, 64, 'sha512', () => r(++finished))));
    // The wait (20 ms) runs on a fake clock: the pair comes back when the clock says so, not
    // when the busy thread pool gets round to it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let pair: Awaited<ReturnType<typeof generateSigningKey>> | undefined;
      const taking = generateSigningKey('P-384').then((p) => (pair = p));
      await Promise.resolve();
      expect(pair).toBeUndefined(); // waiting for a generation stuck behind the busy pool
      await vi.advanceTimersByTimeAsync(19);
      expect(pair).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await taking;
      expect(pair!.publicKeyBase64).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(finished).toBeLessThan(8); // the pool was still busy: the pair did not come from it
    } finally {
      vi.useRealTimers();
    }
    await Promise.all(busy);
  });

  it('size 0 turns it off; sizes outside 0..64 are refused', async () => {
    setSigningKeyPoolSize(0);
    const a = await generateSigningKey('P-256');
    const b = await generateSigningKey('P-256');
    expect(a.publicKeyBase64).not.toBe(b.publicKeyBase64);
    for (const bad of [-1, 65, 1.5, Number.NaN]) {
      expect(() => setSigningKeyPoolSize(bad)).toThrow(EnvelopeError);
    }
  });

  it('signed messages round-trip with pooled keys, each message with its own key', async () => {
    const keyring = new TestKeyring();
    const keys = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const { ciphertext } = await encrypt(Buffer.from(`m${i}`), { keyring, suite: 0x0578 });
      const { plaintext, encryptionContext } = await decrypt(ciphertext, { keyring });
      expect(Buffer.from(plaintext).toString()).toBe(`m${i}`);
      keys.add(encryptionContext['aws-crypto-public-key']!);
      if (i % 2) await refilled();
    }
    expect(keys.size).toBe(10);
  });

  it('compresses public keys to the SEC1 form OpenSSL reads back', async () => {
    for (const curve of ['P-256', 'P-384'] as const) {
      for (let i = 0; i < 8; i++) {
        const { publicKeyBase64, privateKey } = await generateSigningKey(curve);
        const derived = createPublicKey(privateKey).export({ format: 'jwk' });
        const back = parseVerificationKey(publicKeyBase64, curve).export({ format: 'jwk' });
        expect(back).toEqual(derived);
        expect(compressPublicKey(createPublicKey(privateKey), curve).toString('base64')).toBe(publicKeyBase64);
      }
    }
  });
});
