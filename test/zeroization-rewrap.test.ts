/**
 * Zeroization audit (issue #10), rewrap: header-only and re-encrypting rewraps (buffers and
 * streams) wipe every data key, also when a keyring fails mid-way or a removal is refused. The
 * capture harness is test/zeroization/capture.ts.
 */
import { expectAllWiped } from './zeroization/capture.js';
import { describe, expect, it } from 'vitest';
import { MultiKeyring, decrypt, rewrap, rewrapStream } from '@envelope/core';
import { aes, big, chunks, failing, otherAes, pt, quietEncrypt, rsa, throughNode } from './zeroization/fixtures.js';

describe('rewrap', () => {
  it('header-only (unsigned): replace, add, remove — buffers and streams', async () => {
    const ct = await quietEncrypt(big, { keyring: new MultiKeyring({ generator: aes, children: [rsa] }), suite: 0x0478 });
    const r1 = await rewrap(ct, { from: aes, to: rsa, mode: 'replace' });
    const r2 = await rewrap(ct, { from: rsa, to: otherAes, mode: 'add' });
    const r3 = await rewrap(ct, {
      from: aes,
      mode: 'remove',
      remove: (e) => e.providerId === 'zero' && Buffer.from(e.providerInfo).toString() === 'rsa',
    });
    for (const r of [r1, r2, r3]) expect(r.method).toBe('header-only');
    const streamed = await throughNode(chunks(ct, 4000), rewrapStream({ from: aes, to: otherAes, mode: 'add' }));
    expect((await decrypt(streamed, { keyring: otherAes })).plaintext.byteLength).toBe(big.byteLength);
    expectAllWiped({ 'materials-own': 6, 'derived-key': 4, 'aes-unwrap': 3, 'rsa-unwrap': 1, 'dek-copy': 3 });
  });

  it('re-encrypt (signed): replace and add — buffers and streams', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0578 });
    const r1 = await rewrap(ct, { from: aes, to: rsa, mode: 'replace' });
    const r2 = await rewrap(ct, { from: aes, to: rsa, mode: 'add' });
    for (const r of [r1, r2]) expect(r.method).toBe('re-encrypted');
    const streamed = await throughNode(chunks(ct, 4000), rewrapStream({ from: aes, to: rsa }));
    expect((await decrypt(streamed, { keyring: rsa })).plaintext.byteLength).toBe(big.byteLength);
    expectAllWiped({ 'materials-own': 7, 'derived-key': 7, 'aes-unwrap': 3, 'rsa-unwrap': 1 });
  });

  it('failures: a "to" keyring failing mid-way, a refused remove, a "from" that cannot decrypt', async () => {
    const unsigned = await quietEncrypt(pt, { keyring: aes, suite: 0x0478 });
    const signed = await quietEncrypt(pt, { keyring: aes, suite: 0x0578 });
    for (const msg of [unsigned, signed]) {
      await expect(rewrap(msg, { from: aes, to: [rsa, failing] })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    }
    await expect(rewrap(unsigned, { from: aes, mode: 'remove', remove: () => false, keep: rsa })).rejects.toMatchObject({
      code: 'ENVELOPE_REWRAP_REFUSED',
    });
    // remove on a signed message: refused after the old message was decrypted (its key wiped).
    await expect(rewrap(signed, { from: aes, mode: 'remove', remove: () => true })).rejects.toMatchObject({
      code: 'ENVELOPE_REWRAP_REFUSED',
    });
    await expect(rewrap(unsigned, { from: otherAes, to: rsa })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    await expect(throughNode([unsigned], rewrapStream({ from: aes, to: [rsa, failing] }))).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
    });
    expectAllWiped({ 'materials-own': 6, 'aes-unwrap': 6, 'dek-copy': 3, 'derived-key': 2 });
  });
});
