/**
 * @envelope/keyring-env: a keyring plugin that uses only the public plugin API of
 * @envelope/config. Type `env-aes`: an AES wrapping key (base64) taken from an environment
 * variable, or read from a file that only its owner can read (mode 0600 or stricter). Its schema
 * is zod's: a provider's schema may be any Standard Schema.
 *
 * ```json
 * { "plugins": ["@envelope/keyring-env"],
 *   "keyring": { "type": "env-aes", "namespace": "app", "name": "k1", "variable": "APP_WRAPPING_KEY" } }
 * ```
 */
import { z } from 'zod';
import { configError, defineKeyringProvider, keyringProviderModule, readKeyFile } from '@envelope/config';
import { RawAesKeyring } from '@envelope/keyring-local';

const schema = z
  .strictObject({
    type: z.literal('env-aes'),
    namespace: z.string().min(1, 'expected a non-empty string'),
    name: z.string().min(1, 'expected a non-empty string'),
    /** Environment variable holding the base64 key. */
    variable: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
      .optional(),
    /** File holding the base64 key (or 16/24/32 raw bytes); must not be readable by group or others. */
    keyFile: z.string().min(1).optional(),
  })
  .refine((c) => (c.variable === undefined) !== (c.keyFile === undefined), {
    message: 'give exactly one of variable or keyFile',
    path: [],
  });

/** Decodes a key given as base64 text or raw bytes. */
function decodeKey(raw: Buffer): Buffer {
  if ([16, 24, 32].includes(raw.byteLength) && !/^[A-Za-z0-9+/=\s]+$/.test(raw.toString('latin1'))) return Buffer.from(raw);
  const text = raw.toString('utf8').trim();
  return Buffer.from(text, 'base64');
}

export const envAesProvider = defineKeyringProvider({
  type: 'env-aes',
  schema,
  async create(c, deps, at) {
    let key: Buffer;
    if (c.variable !== undefined) {
      const v = deps.env[c.variable];
      if (!v) throw configError(`${at}.variable`, `environment variable ${c.variable} is not set`);
      key = Buffer.from(v.trim(), 'base64');
    } else {
      // Opened once without following links; mode and owner checked on that descriptor (15.9).
      const raw = await readKeyFile(c.keyFile!, deps.baseDir, `${at}.keyFile`);
      key = decodeKey(raw);
      raw.fill(0);
    }
    try {
      if (![16, 24, 32].includes(key.byteLength)) {
        throw configError(at, `the key must be 16, 24 or 32 bytes (base64), got ${key.byteLength}`);
      }
      return new RawAesKeyring({ keyNamespace: c.namespace, keyName: c.name, wrappingKey: key });
    } finally {
      key.fill(0);
    }
  },
  describe: (c) => ({ label: `${c.namespace}/${c.name}` }),
});

/** The plugin's container module: what `"plugins": ["@envelope/keyring-env"]` loads. */
const plugin = keyringProviderModule(envAesProvider);
export default plugin;
export { plugin as keyringProviders };
