/**
 * Finding 15.9: key files are read as ssh reads private keys — opened once without following a
 * link, checked on the descriptor (regular file, this user's, no access for group or others),
 * read from that descriptor. A configuration file that others can read and that holds a key
 * inline gets a warning.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, chown, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildKeyring, readConfigArgument, readKeyFile, type ConfigWarning } from '../src/index.js';
import { scratchDirs } from './helpers/scratch.js';

const scratch = scratchDirs('cfg-keyfile-');

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const STORE = { tableName: 'keys', logicalKeyStoreName: 'keys', kmsKeyArn: ARN };

const pem = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;

/** One configuration per key-file consumer, for a file name. */
const consumers: [string, (file: string) => unknown, RegExp, () => string | Buffer][] = [
  ['raw-aes keyFile', (f) => ({ type: 'raw-aes', namespace: 'n', name: 'k', keyFile: f }), /^keyring\.keyFile: /, () => randomBytes(32)],
  ['raw-rsa privateKeyFile', (f) => ({ type: 'raw-rsa', namespace: 'n', name: 'k', privateKeyFile: f }), /^keyring\.privateKeyFile: /, pem],
  [
    'keyring-env keyFile',
    (f) => ({ plugins: ['@envelope/keyring-env'], keyring: { type: 'env-aes', namespace: 'n', name: 'k', keyFile: f } }),
    /^keyring\.keyFile: /,
    () => randomBytes(32).toString('base64'),
  ],
];

describe('15.9: key files readable by others, links, owners', () => {
  for (const [name, config, at, content] of consumers) {
    it(`15.9: ${name}: refused when group or others may read it; accepted at 0600`, async () => {
      const dir = await scratch();
      const file = path.join(dir, 'key');
      await writeFile(file, content(), { mode: 0o644 });
      await chmod(file, 0o644);
      const err = await buildKeyring(config(file)).catch((e: Error) => e);
      expect(err).toMatchObject({ code: 'ENVELOPE_CONFIG' });
      expect((err as Error).message).toMatch(at);
      expect((err as Error).message).toMatch(/is readable by group or others \(mode 644\); chmod 600 it$/);
      await chmod(file, 0o620);
      await expect(buildKeyring(config(file))).rejects.toThrow(/is writable by group or others \(mode 620\); chmod 600 it$/);
      await chmod(file, 0o600);
      expect(await buildKeyring(config(file))).toBeDefined();
    });

    it(`15.9: ${name}: a symbolic link is not followed, even to a 0600 file`, async () => {
      const dir = await scratch();
      const file = path.join(dir, 'key');
      await writeFile(file, content(), { mode: 0o600 });
      await symlink(file, path.join(dir, 'link'));
      await expect(buildKeyring(config(path.join(dir, 'link')))).rejects.toThrow(
        new RegExp(`${at.source}"[^"]*link" is a symbolic link; give the path of the key file itself$`),
      );
    });
  }

  it('15.9: a key file owned by another user, or not a regular file, is refused', async () => {
    const dir = await scratch();
    const file = path.join(dir, 'key');
    await writeFile(file, randomBytes(32), { mode: 0o600 });
    if (process.getuid?.() === 0) {
      await chown(file, 4242, 4242);
      await expect(readKeyFile(file, dir, 'k')).rejects.toThrow(/^k: ".*key" is not owned by this user$/);
    }
    await expect(readKeyFile(dir, dir, 'k')).rejects.toThrow(/is not a regular file$/);
    await expect(readKeyFile('missing', dir, 'k')).rejects.toThrow(/^k: cannot read "missing" \(ENOENT\)$/);
  });

  it('15.9: a configuration file readable by others that holds a key inline gets a warning; 0600 does not', async () => {
    const dir = await scratch();
    const file = path.join(dir, 'keyring.json');
    const key = randomBytes(32).toString('base64');
    await writeFile(file, JSON.stringify({ type: 'raw-aes', namespace: 'n', name: 'k', key }), { mode: 0o644 });
    await chmod(file, 0o644);
    const warnings: ConfigWarning[] = [];
    const read = await readConfigArgument(file);
    await buildKeyring(read.config, { baseDir: read.baseDir, source: read.source, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([
      {
        code: 'ENVELOPE_CONFIG_PERMISSIONS',
        message: expect.stringMatching(
          /^keyring\.key: ".*keyring\.json" holds key material and is readable by group or others \(mode 644\); chmod 600 it/,
        ),
      },
    ]);
    expect(JSON.stringify(warnings)).not.toContain(key);

    // Nested keyrings and KMS credentials count too; a key file reference does not.
    await writeFile(
      file,
      JSON.stringify({
        keyring: {
          type: 'multi',
          children: [
            { type: 'raw-aes', namespace: 'n', name: 'a', keyFile: 'k.bin' },
            { type: 'raw-aes', namespace: 'n', name: 'b', key },
            { type: 'aws-kms', keyId: ARN, credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret' } },
            { type: 'aws-kms-hierarchical', branchKeyId: 'b', keyStore: STORE },
            {
              type: 'aws-kms-hierarchical',
              branchKeyId: 'b',
              keyStore: { ...STORE, credentials: { accessKeyId: 'A', secretAccessKey: 'S' } },
            },
          ],
        },
      }),
    );
    await writeFile(path.join(dir, 'k.bin'), randomBytes(32), { mode: 0o600 });
    warnings.length = 0;
    const nested = await readConfigArgument(file);
    await buildKeyring(nested.config, { baseDir: nested.baseDir, source: nested.source, onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => w.message.split(':')[0])).toEqual([
      'keyring.children[1].key',
      'keyring.children[2].credentials',
      'keyring.children[4].keyStore.credentials',
    ]);

    await chmod(file, 0o600);
    warnings.length = 0;
    const quiet = await readConfigArgument(file);
    await buildKeyring(quiet.config, { baseDir: quiet.baseDir, source: quiet.source, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
  });
});
