import { afterEach, describe, expect, it } from 'vitest';
import { createPublicKey, createVerify, pbkdf2, sign } from 'node:crypto';
import { decrypt, encrypt, EnvelopeError, setSigningKeyPoolSize } from '../src/index.js';
import { compressPublicKey, generateSigningKey, parseVerificationKey } from '../src/crypto/signature.js';
import { TestKeyring } from './helpers/test-keyring.js';

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('signing key pool', () => {
  afterEach(() => setSigningKeyPoolSize(4));

  it('hands out working, distinct key pairs generated ahead of use (each used once)', async () => {
    setSigningKeyPoolSize(4);
    await generateSigningKey('P-384'); // the first take starts the pool
    await settle();
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const pair = await generateSigningKey('P-384');
      expect(seen.has(pair.publicKeyBase64)).toBe(false);
      seen.add(pair.publicKeyBase64);
      // The advertised public key verifies what the private key signs.
      const sig = sign('sha384', Buffer.from('m'), pair.privateKey);
      const v = createVerify('sha384').update('m');
      expect(v.verify(parseVerificationKey(pair.publicKeyBase64, 'P-384'), sig)).toBe(true);
      if (i % 3 === 0) await settle();
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
    // Occupy every thread-pool thread (default 4) for far longer than the wait.
    const busy = Array.from({ length: 8 }, () => new Promise((r) => pbkdf2('p', 's', 400_000, 64, 'sha512', r)));
    const t0 = performance.now();
    const pair = await generateSigningKey('P-384');
    const ms = performance.now() - t0;
    const tBusy = performance.now();
    await Promise.all(busy);
    const busyLeft = performance.now() - tBusy;
    expect(pair.publicKeyBase64).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // The pool was still busy well after the pair came back.
    expect(busyLeft).toBeGreaterThan(ms);
    expect(ms).toBeLessThan(250);
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
      if (i % 2) await settle();
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
