/** The PKCS#1 v1.5 probe runs once per process: counted, not timed. */
import { describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => ({ generateKeyPairSync: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const generateKeyPairSync = ((...args: Parameters<typeof real.generateKeyPairSync>) => {
    calls.generateKeyPairSync++;
    return real.generateKeyPairSync(...args);
  }) as typeof real.generateKeyPairSync;
  return { ...real, default: { ...real, generateKeyPairSync }, generateKeyPairSync };
});

const { pkcs1DecryptAvailable } = await import('../src/rsa-padding.js');

describe('pkcs1DecryptAvailable', () => {
  it('generates one throwaway key pair on the first call and none after (the answer is cached)', () => {
    expect(calls.generateKeyPairSync).toBe(0);
    const first = pkcs1DecryptAvailable();
    expect(calls.generateKeyPairSync).toBe(1);
    for (let i = 0; i < 5; i++) expect(pkcs1DecryptAvailable()).toBe(first);
    expect(calls.generateKeyPairSync).toBe(1);
  });
});
