import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decrypt, encrypt } from '@envelope/core';
import { buildKeyring } from '@envelope/config';

// Loaded by package name, as a third-party plugin would be: resolution goes through
// node_modules/@envelope/keyring-env (the workspace link) and its built dist.
const plugins = ['@envelope/keyring-env'];

describe('@envelope/keyring-env plugin', () => {
  it('builds an env-aes keyring from an environment variable, through "plugins"', async () => {
    const key = randomBytes(32).toString('base64');
    const k = await buildKeyring(
      { plugins, keyring: { type: 'env-aes', namespace: 'app', name: 'k1', variable: 'APP_KEY' } },
      { env: { APP_KEY: key } },
    );
    const { ciphertext } = await encrypt(Buffer.from('plugin'), { keyring: k, suite: 0x0478 });
    // Wire-compatible with a raw-aes keyring of the same key: the plugin wraps with the public RawAesKeyring.
    const raw = await buildKeyring({ type: 'raw-aes', namespace: 'app', name: 'k1', key });
    expect(Buffer.from((await decrypt(ciphertext, { keyring: raw })).plaintext).toString()).toBe('plugin');
  });

  it('reads a key file only if no one else can read it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'env-aes-'));
    const file = path.join(dir, 'key.b64');
    await writeFile(file, randomBytes(32).toString('base64'));
    await chmod(file, 0o644);
    await expect(buildKeyring({ plugins, keyring: { type: 'env-aes', namespace: 'a', name: 'b', keyFile: file } })).rejects.toThrow(
      /^keyring\.keyFile: ".*key\.b64" is readable by group or others \(mode 644\); chmod 600 it/,
    );
    await chmod(file, 0o600);
    const k = await buildKeyring({ plugins, keyring: { type: 'env-aes', namespace: 'a', name: 'b', keyFile: file } });
    const { ciphertext } = await encrypt(Buffer.from('x'), { keyring: k, suite: 0x0478 });
    await decrypt(ciphertext, { keyring: k });
  });

  it('names what is wrong', async () => {
    await expect(
      buildKeyring({ plugins, keyring: { type: 'env-aes', namespace: 'a', name: 'b', variable: 'NOPE' } }, { env: {} }),
    ).rejects.toThrow(/^keyring\.variable: environment variable NOPE is not set/);
    await expect(buildKeyring({ plugins, keyring: { type: 'env-aes', namespace: 'a', name: 'b' } })).rejects.toThrow(
      /^keyring: give exactly one of variable or keyFile/,
    );
    await expect(
      buildKeyring({ plugins, keyring: { type: 'env-aes', namespace: 'a', name: 'b', variable: 'X' } }, { env: { X: 'c2hvcnQ=' } }),
    ).rejects.toThrow(/must be 16, 24 or 32 bytes/);
    // Without the plugin the type is unknown.
    await expect(buildKeyring({ type: 'env-aes', namespace: 'a', name: 'b', variable: 'X' })).rejects.toThrow(
      /^keyring\.type: unknown keyring type "env-aes"/,
    );
  });
});
