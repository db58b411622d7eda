import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { startKmsLocal } from '../src/index.js';
import { client, errName } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1'];
const tmp = (): Promise<string> => mkdtemp(path.join(tmpdir(), 'kms-local-'));

describe('--data-dir persistence', () => {
  it('keys, replicas, rotations, aliases and states survive a restart; material at rest is wrapped', async () => {
    const dir = await tmp();
    try {
      const a = await startKmsLocal({ regions, dataDir: dir });
      const east = client(a, 'us-east-1');
      const { KeyMetadata: m } = await east.send(new CreateKeyCommand({ MultiRegion: true, Description: 'persisted' }));
      await east.send(new ReplicateKeyCommand({ KeyId: m!.KeyId, ReplicaRegion: 'eu-west-1' }));
      const g = await east.send(new GenerateDataKeyCommand({ KeyId: m!.KeyId, NumberOfBytes: 32, EncryptionContext: { p: '1' } }));
      await east.send(new RotateKeyOnDemandCommand({ KeyId: m!.KeyId }));
      const rotated = await east.send(new EncryptCommand({ KeyId: m!.KeyId, Plaintext: Buffer.from('after rotation') }));
      await east.send(new CreateAliasCommand({ AliasName: 'alias/kept', TargetKeyId: m!.KeyId }));
      const { KeyMetadata: off } = await east.send(new CreateKeyCommand({}));
      await east.send(new DisableKeyCommand({ KeyId: off!.KeyId }));
      await a.close();

      const files = await readdir(dir);
      expect(files.sort()).toEqual(['root.key', 'state.json']); // no temporary files left behind
      expect((await stat(path.join(dir, 'root.key'))).mode & 0o077).toBe(0);
      expect((await stat(path.join(dir, 'state.json'))).mode & 0o077).toBe(0);
      const state = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as { materials: Record<string, string[]> };
      expect(state.materials[m!.KeyId!]).toHaveLength(2);
      for (const w of state.materials[m!.KeyId!]!) expect(Buffer.from(w, 'base64').byteLength).toBe(12 + 32 + 16); // IV ‖ wrapped ‖ tag

      const b = await startKmsLocal({ regions, dataDir: dir });
      try {
        const eu = client(b, 'eu-west-1');
        const d = await eu.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, EncryptionContext: { p: '1' } }));
        expect(Buffer.from(d.Plaintext!).equals(Buffer.from(g.Plaintext!))).toBe(true);
        expect(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: rotated.CiphertextBlob }))).Plaintext!).toString()).toBe(
          'after rotation',
        );
        const east2 = client(b, 'us-east-1');
        expect((await east2.send(new DescribeKeyCommand({ KeyId: 'alias/kept' }))).KeyMetadata).toMatchObject({
          KeyId: m!.KeyId,
          Description: 'persisted',
        });
        expect((await east2.send(new DescribeKeyCommand({ KeyId: off!.KeyId }))).KeyMetadata!.KeyState).toBe('Disabled');
      } finally {
        await b.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a change is on disk when it is acknowledged (no close needed)', async () => {
    const dir = await tmp();
    const a = await startKmsLocal({ regions, dataDir: dir });
    try {
      const { KeyMetadata: k } = await client(a, 'us-east-1').send(new CreateKeyCommand({}));
      expect(await readFile(path.join(dir, 'state.json'), 'utf8')).toContain(k!.KeyId!);
    } finally {
      await a.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('another root key cannot read the material; a corrupt state file or a lost root key is refused, not overwritten', async () => {
    const dir = await tmp();
    try {
      const a = await startKmsLocal({ regions, dataDir: dir });
      await client(a, 'us-east-1').send(new CreateKeyCommand({}));
      await a.close();
      const good = await readFile(path.join(dir, 'state.json'));

      await writeFile(path.join(dir, 'root.key'), Buffer.alloc(32, 1));
      await expect(startKmsLocal({ regions, dataDir: dir })).rejects.toMatchObject({
        code: 'ENVELOPE_CONFIG',
        message: expect.stringMatching(/does not authenticate/),
      });
      await rm(path.join(dir, 'root.key'));
      await expect(startKmsLocal({ regions, dataDir: dir })).rejects.toMatchObject({
        code: 'ENVELOPE_CONFIG',
        message: expect.stringMatching(/root\.key is missing/),
      });
      await writeFile(path.join(dir, 'root.key'), Buffer.alloc(32, 1), { mode: 0o600 });
      await writeFile(path.join(dir, 'state.json'), '{"truncated":');
      await expect(startKmsLocal({ regions, dataDir: dir })).rejects.toMatchObject({
        code: 'ENVELOPE_CONFIG',
        message: expect.stringMatching(/not valid JSON/),
      });
      expect(await readFile(path.join(dir, 'state.json'), 'utf8')).toBe('{"truncated":');
      expect(good.byteLength).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without a data directory nothing is written and state is per process', async () => {
    const a = await startKmsLocal({ regions });
    const { KeyMetadata: k } = await client(a, 'us-east-1').send(new CreateKeyCommand({}));
    await a.close();
    const b = await startKmsLocal({ regions });
    try {
      expect(await errName(client(b, 'us-east-1').send(new DescribeKeyCommand({ KeyId: k!.KeyId })))).toBe('NotFoundException 400');
    } finally {
      await b.close();
    }
  });
});
