/**
 * 15.8: the data directory, root.key and state.json must be this user's own, private, and not
 * symbolic links; every start-up failure is a coded error.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { startKmsLocal } from '../src/index.js';
import { client } from './helpers.js';

const regions = ['us-east-1'];
const dirs: string[] = [];
const tmp = async (): Promise<string> => {
  const d = await mkdtemp(path.join(tmpdir(), 'kms-local-dd-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A data directory kms-local made, with one key (0700; root.key and state.json 0600). */
async function made(): Promise<string> {
  const dir = path.join(await tmp(), 'data');
  const k = await startKmsLocal({ regions, dataDir: dir, port: 0 });
  try {
    await client(k, 'us-east-1').send(new CreateKeyCommand({}));
  } finally {
    await k.close();
  }
  return dir;
}

const refused = (dir: string, message: RegExp) =>
  expect(startKmsLocal({ regions, dataDir: dir, port: 0 })).rejects.toMatchObject({
    code: 'ENVELOPE_CONFIG',
    message: expect.stringMatching(message),
  });

describe.skipIf(process.platform === 'win32')('15.8: the data directory and its files', () => {
  it('15.8: a data directory open to group or others is refused, and nothing is written into it', async () => {
    for (const mode of [0o755, 0o750, 0o701, 0o770]) {
      const dir = path.join(await tmp(), 'data');
      await mkdir(dir);
      await chmod(dir, mode);
      await refused(dir, new RegExp(`accessible by group or others \\(mode 0${mode.toString(8)}\\).*chmod 700`));
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it('15.8: a root.key or state.json readable by group or others is refused', async () => {
    for (const file of ['root.key', 'state.json']) {
      for (const mode of [0o644, 0o640, 0o604]) {
        const dir = await made();
        await chmod(path.join(dir, file), mode);
        await refused(
          dir,
          new RegExp(`${file.replace('.', '\\.')} is accessible by group or others \\(mode 0${mode.toString(8)}\\).*chmod 600`),
        );
      }
    }
  });

  it('15.8: symbolic links are refused (O_NOFOLLOW): the directory, root.key, state.json', async () => {
    const real = await made();
    const link = path.join(await tmp(), 'link');
    await symlink(real, link);
    await refused(link, /link is a symbolic link; give the real directory/);

    for (const file of ['root.key', 'state.json']) {
      const dir = await made();
      const elsewhere = path.join(await tmp(), file);
      await writeFile(elsewhere, file === 'root.key' ? Buffer.alloc(32, 7) : '{}', { mode: 0o600 });
      await rm(path.join(dir, file));
      await symlink(elsewhere, path.join(dir, file));
      await refused(dir, new RegExp(`${file.replace('.', '\\.')} is a symbolic link`));
    }
  });

  it('15.8: a directory or file of another user is refused', async () => {
    const dir = await made();
    const me = process.getuid!();
    vi.spyOn(process, 'getuid').mockReturnValue(me + 1);
    await refused(dir, new RegExp(`belongs to uid ${me}, not to this user \\(uid ${me + 1}\\)`));
  });

  it('15.8: a private directory made by kms-local starts; the files are 0600 and the directory 0700', async () => {
    const dir = await made();
    const k = await startKmsLocal({ regions, dataDir: dir, port: 0 });
    await k.close();
    expect((await readdir(dir)).sort()).toEqual(['root.key', 'state.json']);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const f of ['root.key', 'state.json']) expect((await stat(path.join(dir, f))).mode & 0o777).toBe(0o600);
  });
});

describe('15.8: every start-up failure is a coded error', () => {
  it('bad options, quotas, a data directory that cannot be made, a busy port', async () => {
    await expect(startKmsLocal({ regions: ['nowhere'] })).rejects.toMatchObject({ code: 'ENVELOPE_INVALID_ARGUMENT' });
    await expect(startKmsLocal({ port: 70000 })).rejects.toMatchObject({ code: 'ENVELOPE_INVALID_ARGUMENT' });
    await expect(startKmsLocal({ regions, quotas: { 'eu-west-1': 1 } })).rejects.toMatchObject({
      code: 'ENVELOPE_INVALID_ARGUMENT',
      message: expect.stringMatching(/^quotas: .*does not serve/),
    });
    const file = path.join(await tmp(), 'a-file');
    await writeFile(file, 'x');
    await expect(startKmsLocal({ regions, dataDir: path.join(file, 'sub') })).rejects.toMatchObject({
      code: 'ENVELOPE_CONFIG',
      message: expect.stringMatching(/cannot create the data directory .*\(ENOTDIR\)/),
    });
    const busy = await startKmsLocal({ regions, port: 0 });
    try {
      await expect(startKmsLocal({ regions, port: busy.port })).rejects.toMatchObject({
        code: 'ENVELOPE_CONFIG',
        message: `kms-local: cannot listen on 127.0.0.1:${busy.port} (EADDRINUSE: the port is in use; choose another with --port (0 picks a free one))`,
      });
    } finally {
      await busy.close();
    }
  });

  it('a state file of the wrong shape is a coded error, not a crash', async () => {
    for (const state of [
      '[]',
      '{"format":1,"keys":[1],"aliases":[],"materials":{}}',
      '{"format":1,"keys":[],"aliases":[],"materials":{"f":7}}',
    ]) {
      const dir = await made();
      await writeFile(path.join(dir, 'state.json'), state);
      await refused(dir, /state\.json (has|is)/);
    }
  });
});
