/** Built-in providers: raw-aes, raw-rsa and multi (DESIGN.md "Keyring configuration"). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { MultiKeyring } from '@envelope/core';
import { RSA_PADDINGS, RawAesKeyring, RawRsaKeyring } from '@envelope/keyring-local';
import { configError } from '../errors.js';
import { defineKeyringProvider } from '../provider.js';

const nonEmpty = z.string().min(1, 'expected a non-empty string');
const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64');

async function readAt(baseDir: string, file: string, at: string, encoding?: 'utf8'): Promise<Buffer | string> {
  try {
    return await readFile(path.resolve(baseDir, file), encoding);
  } catch (e) {
    throw configError(at, `cannot read ${JSON.stringify(file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export const rawAesProvider = defineKeyringProvider({
  type: 'raw-aes',
  schema: z
    .strictObject({ type: z.literal('raw-aes'), namespace: nonEmpty, name: nonEmpty, key: base64.optional(), keyFile: nonEmpty.optional() })
    .refine((c) => (c.key === undefined) !== (c.keyFile === undefined), { message: 'give exactly one of key or keyFile', path: [] }),
  async create(c, deps, at) {
    const key = c.key !== undefined ? Buffer.from(c.key, 'base64') : ((await readAt(deps.baseDir, c.keyFile!, `${at}.keyFile`)) as Buffer);
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

export const rawRsaProvider = defineKeyringProvider({
  type: 'raw-rsa',
  schema: z
    .strictObject({
      type: z.literal('raw-rsa'),
      namespace: nonEmpty,
      name: nonEmpty,
      privateKeyFile: nonEmpty.optional(),
      privateKey: nonEmpty.optional(),
      publicKeyFile: nonEmpty.optional(),
      publicKey: nonEmpty.optional(),
      padding: z.enum(RSA_PADDINGS as unknown as [string, ...string[]]).default('oaep-sha256'),
      allowPkcs1Decrypt: z.boolean().optional(),
      // Keys under 2048 bits: decrypt old messages only (keyring-local refuses to wrap under them).
      allowSmallKeyDecrypt: z.boolean().optional(),
    })
    .refine((c) => c.privateKey || c.privateKeyFile || c.publicKey || c.publicKeyFile, {
      message: 'give privateKeyFile or publicKeyFile (or inline PEM)',
      path: [],
    }),
  async create(c, deps, at) {
    const priv =
      c.privateKey ??
      (c.privateKeyFile ? ((await readAt(deps.baseDir, c.privateKeyFile, `${at}.privateKeyFile`, 'utf8')) as string) : undefined);
    const pub =
      c.publicKey ??
      (c.publicKeyFile ? ((await readAt(deps.baseDir, c.publicKeyFile, `${at}.publicKeyFile`, 'utf8')) as string) : undefined);
    // A private key alone also encrypts: its PEM carries the public half (the keyring insists on
    // being told; the spec forbids deriving it implicitly).
    return new RawRsaKeyring({
      keyNamespace: c.namespace,
      keyName: c.name,
      privateKey: priv,
      publicKey: pub ?? priv,
      padding: c.padding as (typeof RSA_PADDINGS)[number],
      allowPkcs1Decrypt: c.allowPkcs1Decrypt,
      allowSmallKeyDecrypt: c.allowSmallKeyDecrypt,
    });
  },
  describe: (c) => ({ label: `${c.namespace}/${c.name}` }),
});

export const multiProvider = defineKeyringProvider({
  type: 'multi',
  schema: z
    .strictObject({ type: z.literal('multi'), generator: z.unknown().optional(), children: z.array(z.unknown()).default([]) })
    .refine((c) => c.generator !== undefined || c.children.length > 0, {
      message: 'a multi keyring needs a generator or children',
      path: [],
    }),
  async create(c, deps, at) {
    const generator = c.generator === undefined ? undefined : await deps.build(c.generator, `${at}.generator`);
    const children = [];
    for (const [i, child] of c.children.entries()) children.push(await deps.build(child, `${at}.children[${i}]`));
    return new MultiKeyring({ generator, children });
  },
  children: (c, at) => [
    ...(c.generator === undefined ? [] : [{ config: c.generator, path: `${at}.generator` }]),
    ...c.children.map((child, i) => ({ config: child, path: `${at}.children[${i}]` })),
  ],
});
