/**
 * The raw AES keyring's own copy of the wrapping key: observed through the key argument it
 * hands to node:crypto (the same private buffer), which destroy() must zero.
 */
import { describe, expect, it, vi } from 'vitest';

const seen = vi.hoisted(() => ({ keys: [] as Uint8Array[] }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    createCipheriv: ((...args: Parameters<typeof real.createCipheriv>) => {
      seen.keys.push(args[1] as Uint8Array);
      return real.createCipheriv(...args);
    }) as typeof real.createCipheriv,
  };
});

const { RawAesKeyring } = await import('@envelope/keyring-local');
const { encryptionMaterials, isZero } = await import('./helpers.js');

describe('RawAesKeyring key storage', () => {
  it('uses a private copy (not the caller buffer) and zeroes it on destroy()', async () => {
    const caller = new Uint8Array(32).fill(0x5a);
    const k = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: caller });
    await k.onEncrypt(encryptionMaterials());
    const own = seen.keys.at(-1)!;
    expect(own).not.toBe(caller);
    expect(own.buffer).not.toBe(caller.buffer);
    expect(own.byteLength).toBe(32);
    expect(isZero(own)).toBe(false);
    k.destroy();
    expect(isZero(own)).toBe(true);
    expect(caller.every((b) => b === 0x5a)).toBe(true); // the caller's buffer is the caller's business
  });
});
