// Our implementation, set up as the benchmarks use it (imported alone by the RSS children).
import { encrypt, decrypt, encryptStream, decryptStream } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';
import { KEY, CONTEXT } from './constants.mjs';

export const keyring = new RawAesKeyring({ keyNamespace: 'bench', keyName: 'aes', wrappingKey: Buffer.from(KEY) });

export const buffer = {
  encrypt: async (pt, suite, frameLength) => (await encrypt(pt, { keyring, suite, frameLength, encryptionContext: CONTEXT })).ciphertext,
  decrypt: async (ct) => (await decrypt(ct, { keyring })).plaintext,
};

/** Signed suites: frames are released once authenticated, before the signature verifies, as the SDK's decryptStream does. */
export const stream = {
  encrypt: (suite, frameLength) => encryptStream({ keyring, suite, frameLength, encryptionContext: CONTEXT }),
  decrypt: (suite) => decryptStream({ keyring, releaseUnverifiedPlaintext: suite === 0x0578 }),
};
