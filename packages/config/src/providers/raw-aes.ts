/** `raw-aes`: an AES wrapping key inline (base64) or in a key file (DESIGN.md "Keyring configuration"). */
import { RawAesKeyring } from '@envelope/keyring-local';
import { configError } from '../errors.js';
import { readKeyFile } from '../key-file.js';
import { defineKeyringProvider } from '../provider.js';
import { s } from '../schema.js';

const base64 = s.string().refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v), 'expected base64');

export const rawAesProvider = defineKeyringProvider({
  type: 'raw-aes',
  schema: s
    .object({
      type: s.literal('raw-aes'),
      namespace: s.nonEmpty(),
      name: s.nonEmpty(),
      key: base64.optional(),
      keyFile: s.nonEmpty().optional(),
    })
    .refine((c) => (c.key === undefined) !== (c.keyFile === undefined), 'give exactly one of key or keyFile'),
  secretFields: ['key'],
  async create(c, deps, at) {
    const key = c.key !== undefined ? Buffer.from(c.key, 'base64') : await readKeyFile(c.keyFile!, deps.baseDir, `${at}.keyFile`);
    try {
      // Checked inside the try: a key of the wrong length is key material all the same.
      if (![16, 24, 32].includes(key.byteLength))
        throw configError(
          `${at}.${c.key !== undefined ? 'key' : 'keyFile'}`,
          `expected a 16, 24 or 32-byte AES key, got ${key.byteLength} bytes`,
        );
      return new RawAesKeyring({ keyNamespace: c.namespace, keyName: c.name, wrappingKey: key });
    } finally {
      key.fill(0);
    }
  },
  describe: (c) => ({ label: `${c.namespace}/${c.name}` }),
});
