/** `raw-rsa`: RSA key pairs from PEM files or inline PEM (DESIGN.md "Keyring configuration"). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RSA_PADDINGS, RawRsaKeyring } from '@envelope/keyring-local';
import { configError } from '../errors.js';
import { readKeyFile } from '../key-file.js';
import { defineKeyringProvider } from '../provider.js';
import { s } from '../schema.js';

/** A public key is not secret: read as it is. */
async function readPublicKey(baseDir: string, file: string, at: string): Promise<string> {
  try {
    return await readFile(path.resolve(baseDir, file), 'utf8');
  } catch (e) {
    throw configError(at, `cannot read ${JSON.stringify(file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export const rawRsaProvider = defineKeyringProvider({
  type: 'raw-rsa',
  schema: s
    .object({
      type: s.literal('raw-rsa'),
      namespace: s.nonEmpty(),
      name: s.nonEmpty(),
      privateKeyFile: s.nonEmpty().optional(),
      privateKey: s.nonEmpty().optional(),
      publicKeyFile: s.nonEmpty().optional(),
      publicKey: s.nonEmpty().optional(),
      padding: s.enumOf(RSA_PADDINGS).default('oaep-sha256'),
      allowPkcs1Decrypt: s.boolean().optional(),
      // Keys under 2048 bits: decrypt old messages only (keyring-local refuses to wrap under them).
      allowSmallKeyDecrypt: s.boolean().optional(),
    })
    .refine(
      (c) => !!(c.privateKey || c.privateKeyFile || c.publicKey || c.publicKeyFile),
      'give privateKeyFile or publicKeyFile (or inline PEM)',
    ),
  secretFields: ['privateKey'],
  async create(c, deps, at) {
    let priv = c.privateKey;
    if (priv === undefined && c.privateKeyFile !== undefined) {
      const bytes = await readKeyFile(c.privateKeyFile, deps.baseDir, `${at}.privateKeyFile`);
      // The PEM becomes a string for the keyring (JS strings cannot be wiped); the bytes can.
      priv = bytes.toString('utf8');
      bytes.fill(0);
    }
    const pub = c.publicKey ?? (c.publicKeyFile ? await readPublicKey(deps.baseDir, c.publicKeyFile, `${at}.publicKeyFile`) : undefined);
    // A private key alone also encrypts: its PEM carries the public half (the keyring insists on
    // being told; the spec forbids deriving it implicitly).
    return new RawRsaKeyring({
      keyNamespace: c.namespace,
      keyName: c.name,
      privateKey: priv,
      publicKey: pub ?? priv,
      padding: c.padding,
      allowPkcs1Decrypt: c.allowPkcs1Decrypt,
      allowSmallKeyDecrypt: c.allowSmallKeyDecrypt,
    });
  },
  describe: (c) => ({ label: `${c.namespace}/${c.name}` }),
});
