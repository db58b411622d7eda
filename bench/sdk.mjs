// The AWS Encryption SDK, set up as the benchmarks use it (imported alone by the RSS children).
import { buildClient, CommitmentPolicy, RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';
import { KEY, CONTEXT } from './constants.mjs';

export const keyring = new RawAesKeyringNode({
  keyNamespace: 'bench',
  keyName: 'aes',
  unencryptedMasterKey: new Uint8Array(KEY),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});
export const client = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

export const buffer = {
  encrypt: async (pt, suite, frameLength) =>
    (await client.encrypt(keyring, pt, { suiteId: suite, frameLength, encryptionContext: CONTEXT })).result,
  decrypt: async (ct) => (await client.decrypt(keyring, ct)).plaintext,
};

/** Unsigned suites use decryptUnsignedMessageStream; signed ones decryptStream (releases frames before the signature verifies). */
export const stream = {
  encrypt: (suite, frameLength) => client.encryptStream(keyring, { suiteId: suite, frameLength, encryptionContext: CONTEXT }),
  decrypt: (suite) => (suite === 0x0578 ? client.decryptStream(keyring) : client.decryptUnsignedMessageStream(keyring)),
};
