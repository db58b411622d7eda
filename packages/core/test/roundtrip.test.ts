import { describe, expect, it } from 'vitest';
import { SUITES, decrypt, encrypt, type CommitmentPolicy } from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';

const keyring = new TestKeyring();

function policyFor(suiteId: number): CommitmentPolicy {
  return SUITES.get(suiteId)!.commitment ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT';
}

describe('buffer round trip', () => {
  for (const suite of SUITES.values()) {
    for (const size of [0, 1, 4095, 4096, 4097, 3 * 4096, 100_000]) {
      it(`suite ${suite.name}, ${size} bytes`, async () => {
        const pt = Buffer.alloc(size);
        for (let i = 0; i < size; i++) pt[i] = (i * 31 + 7) & 0xff;
        const commitmentPolicy = policyFor(suite.id);
        const ec = { purpose: 'test', ключ: 'значение' };
        const { ciphertext, messageInfo } = await encrypt(pt, { keyring, suite: suite.id, encryptionContext: ec, commitmentPolicy });
        expect(messageInfo.suiteId).toBe(suite.id);
        expect(messageInfo.version).toBe(suite.messageFormat);
        const out = await decrypt(ciphertext, { keyring, commitmentPolicy, encryptionContext: ec });
        expect(Buffer.from(out.plaintext).equals(pt)).toBe(true);
        expect(out.encryptionContext.purpose).toBe('test');
        expect(out.encryptionContext['ключ']).toBe('значение');
        expect('aws-crypto-public-key' in out.encryptionContext).toBe(suite.signature !== undefined);
      });
    }
  }
});
