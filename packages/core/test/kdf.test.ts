import { describe, expect, it } from 'vitest';
import { hkdfSync, randomBytes } from 'node:crypto';
import { SUITES } from '../src/index.js';
import { deriveKeys } from '../src/crypto/kdf.js';

describe('deriveKeys matches RFC 5869 HKDF (node:crypto hkdfSync) for every suite', () => {
  for (const s of SUITES.values()) {
    it(s.name, () => {
      const dk = randomBytes(s.keyLength);
      const id = randomBytes(s.messageFormat === 2 ? 32 : 16);
      const sid = Buffer.from([s.id >> 8, s.id & 0xff]);
      const { key, commitKey } = deriveKeys(s, dk, id);
      if (!s.kdfHash) {
        expect(key.equals(dk)).toBe(true);
        expect(key.buffer).not.toBe(dk.buffer);
        return;
      }
      const expectKey = s.commitment
        ? hkdfSync(s.kdfHash, dk, id, Buffer.concat([sid, Buffer.from('DERIVEKEY')]), s.keyLength)
        : hkdfSync(s.kdfHash, dk, Buffer.alloc(0), Buffer.concat([sid, id]), s.keyLength);
      expect(key.equals(Buffer.from(expectKey))).toBe(true);
      if (s.commitment) expect(commitKey!.equals(Buffer.from(hkdfSync(s.kdfHash, dk, id, Buffer.from('COMMITKEY'), 32)))).toBe(true);
      else expect(commitKey).toBeUndefined();
    });
  }
});
