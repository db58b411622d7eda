// rewrap over many files: globs, non-messages, links, modes, a remove that matches nothing, the
// commitment-policy opt-in for legacy messages (15.i1), stale temporaries of killed runs, and
// failures (permissions included) reported for every file with a summary.
import { describe, expect, it } from 'vitest';
import { chmod, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { decrypt, encrypt } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';
import { run, spawnCli, scratch } from './helpers.js';

function keyPair(name: string) {
  const key = randomBytes(32);
  return {
    config: JSON.stringify({ type: 'raw-aes', namespace: 'rw', name, key: key.toString('base64') }),
    keyring: new RawAesKeyring({ keyNamespace: 'rw', keyName: name, wrappingKey: key }),
  };
}

const opens = async (file: string, keyring: RawAesKeyring) =>
  decrypt(await readFile(file), { keyring, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' }).then(
    (r) => Buffer.from(r.plaintext),
    () => undefined,
  );

async function message(
  file: string,
  keyring: RawAesKeyring,
  suite = 0x0478,
  extra: { commitmentPolicy?: 'FORBID_ENCRYPT_ALLOW_DECRYPT' } = {},
) {
  const pt = randomBytes(5000);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, (await encrypt(pt, { keyring, suite, ...extra })).ciphertext);
  return pt;
}

describe('rewrap: a batch of files', () => {
  it('globs select, non-messages are skipped (failures with --strict), modes are kept, metadata lines are written', async () => {
    const dir = await scratch('envelope-rwb-');
    const a = keyPair('a');
    const b = keyPair('b');
    await message(path.join(dir, 'x', 'one.enc'), a.keyring);
    await message(path.join(dir, 'x', 'y', 'two.enc'), a.keyring, 0x0578);
    await message(path.join(dir, 'skip.bak'), a.keyring);
    await writeFile(path.join(dir, 'x', 'readme.enc'), 'just text');
    await chmod(path.join(dir, 'x', 'one.enc'), 0o644);
    await chmod(path.join(dir, 'x', 'y', 'two.enc'), 0o640);
    const meta = path.join(await scratch('envelope-rwb-meta-'), 'meta.jsonl');

    const r = await run(['rewrap', '--from', a.config, '--to', b.config, '--include', '*.enc', '--json', '--metadata-output', meta, dir]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout.toString());
    expect(s).toMatchObject({ files: 3, done: 2, rewrapped: 2, reencrypted: 1, skipped: 1, failed: 0 });
    expect(s.skips).toEqual([{ input: path.join(dir, 'x', 'readme.enc'), reason: 'not an envelope message' }]);
    expect((await stat(path.join(dir, 'x', 'one.enc'))).mode & 0o777).toBe(0o644);
    expect((await stat(path.join(dir, 'x', 'y', 'two.enc'))).mode & 0o777).toBe(0o640);
    expect(await opens(path.join(dir, 'x', 'one.enc'), b.keyring)).toBeDefined();
    expect(await opens(path.join(dir, 'skip.bak'), b.keyring)).toBeUndefined(); // not included
    const lines = (await readFile(meta, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [path.basename(l.input), l.method]).sort()).toEqual([
      ['one.enc', 'header-only'],
      ['two.enc', 're-encrypted'],
    ]);
    for (const l of lines) expect(l).toMatchObject({ operation: 'rewrap', encryptedDataKeys: [{ providerId: 'rw', key: 'b' }] });

    const strict = await run(['rewrap', '--from', b.config, '--to', a.config, '--strict', '--exclude', 'y/**', path.join(dir, 'x')]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^envelope: ENVELOPE_NOT_A_MESSAGE: .*readme\.enc: not an envelope message/m);
    expect(strict.stdout.toString()).toMatch(/^rewrapped 1, skipped 0, failed 1 of 2 files/);
  });

  it('refuses a symbolic link named on the command line and skips links inside directories; their targets stay as they were', async () => {
    const dir = await scratch('envelope-rwb-');
    const a = keyPair('a');
    const b = keyPair('b');
    await message(path.join(dir, 'target', 'real.enc'), a.keyring);
    await mkdir(path.join(dir, 'tree'));
    await symlink(path.join(dir, 'target', 'real.enc'), path.join(dir, 'tree', 'link.enc'));
    await symlink(path.join(dir, 'target', 'real.enc'), path.join(dir, 'named.enc'));
    const before = await readFile(path.join(dir, 'target', 'real.enc'));

    const r = await run(['rewrap', '--from', a.config, '--to', b.config, '--json', path.join(dir, 'named.enc'), path.join(dir, 'tree')]);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout.toString());
    expect(s.failures).toEqual([
      {
        input: path.join(dir, 'named.enc'),
        code: 'ENVELOPE_SYMLINK',
        message: 'is a symbolic link; rewrap does not follow links (name the file it points to)',
      },
    ]);
    expect(s.skips).toEqual([{ input: path.join(dir, 'tree', 'link.enc'), reason: 'symbolic link' }]);
    expect((await readFile(path.join(dir, 'target', 'real.enc'))).equals(before)).toBe(true);
    expect((await import('node:fs')).lstatSync(path.join(dir, 'named.enc')).isSymbolicLink()).toBe(true);
  });

  it('a signed message whose signature fails is never re-signed: the file stays as it was, no temporary is left', async () => {
    const dir = await scratch('envelope-rwb-');
    const a = keyPair('a');
    const b = keyPair('b');
    const file = path.join(dir, 'signed.enc');
    const pt = randomBytes(300_000);
    const ct = Buffer.from((await encrypt(pt, { keyring: a.keyring, suite: 0x0578, frameLength: 4096 })).ciphertext);
    ct[ct.length - 1]! ^= 1; // the signature, at the very end
    await writeFile(file, ct);
    const r = await run(['rewrap', '--from', a.config, '--to', b.config, file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_AUTHENTICATION_FAILED: /m);
    expect((await readFile(file)).equals(ct)).toBe(true);
    expect(await readdir(dir)).toEqual(['signed.enc']);
  });

  it('--mode remove that matches no EDK in any file is an error, not "skipped"', async () => {
    const dir = await scratch('envelope-rwb-');
    const a = keyPair('a');
    for (let i = 0; i < 3; i++) await message(path.join(dir, `f${i}.enc`), a.keyring);
    const r = await run(['rewrap', '--from', a.config, '--mode', 'remove', '--remove-key', 'typo', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^envelope: ENVELOPE_REWRAP_NO_MATCH: .*--mode remove: no encrypted data key with key typo in any of 3 files$/m,
    );
  });

  it('15.i1: legacy messages without key commitment are re-keyed only with an explicit --commitment-policy', async () => {
    const dir = await scratch('envelope-rwb-');
    const a = keyPair('a');
    const b = keyPair('b');
    const pt = await message(path.join(dir, 'legacy.enc'), a.keyring, 0x0378, { commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' });
    const before = await readFile(path.join(dir, 'legacy.enc'));
    const refused = await run(['rewrap', '--from', a.config, '--to', b.config, dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^envelope: ENVELOPE_COMMITMENT_POLICY: .*legacy\.enc: a legacy message without key commitment: rewrap re-keys it only with --commitment-policy REQUIRE_ENCRYPT_ALLOW_DECRYPT$/m,
    );
    expect((await readFile(path.join(dir, 'legacy.enc'))).equals(before)).toBe(true);
    const ok = await run(['rewrap', '--from', a.config, '--to', b.config, '--commitment-policy', 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', dir]);
    expect(ok.code).toBe(0);
    expect((await opens(path.join(dir, 'legacy.enc'), b.keyring))?.equals(pt)).toBe(true);
  });

  it('removes the stale temporaries of killed runs for file arguments, and only those', async () => {
    const dir = await scratch('envelope-rwb-');
    const a = keyPair('a');
    const b = keyPair('b');
    const file = path.join(dir, 'f.enc');
    await message(file, a.keyring);
    const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has exited
    const name = (h: string, pid: number) => `.f.enc.envelope-${h}-${pid}-${randomBytes(6).toString('hex')}.tmp`;
    const stale = name(host, gone);
    const live = name(host, process.ppid); // a running process's: left alone
    const otherHost = name('00000000', gone); // another machine's (a shared file system): left alone
    for (const n of [stale, live, otherHost]) await writeFile(path.join(dir, n), 'partial');
    const r = await run(['rewrap', '--from', a.config, '--to', b.config, file]);
    expect(r.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['f.enc', live, otherHost].sort());
  });

  it('reports a failure for every file, permissions included, with a summary; the others are rewrapped', async () => {
    const dir = await scratch('envelope-rwb-');
    await chmod(dir, 0o777);
    const a = keyPair('a');
    const b = keyPair('b');
    for (const n of ['ok1', 'ok2', 'locked1', 'locked2']) await message(path.join(dir, `${n}.enc`), a.keyring);
    await mkdir(path.join(dir, 'ro'));
    await message(path.join(dir, 'ro', 'in-ro-dir.enc'), a.keyring);
    await chmod(path.join(dir, 'locked1.enc'), 0o000);
    await chmod(path.join(dir, 'locked2.enc'), 0o000);
    await chmod(path.join(dir, 'ro'), 0o555);
    const keys = path.join(dir, 'keys');
    await mkdir(keys, { mode: 0o755 });
    await writeFile(path.join(keys, 'a.json'), a.config, { mode: 0o644 });
    await writeFile(path.join(keys, 'b.json'), b.config, { mode: 0o644 });
    for (const n of ['ok1', 'ok2', 'ro/in-ro-dir']) await chmod(path.join(dir, `${n}.enc`), 0o666);
    // Root reads and writes anything: run the real command as an unprivileged user when we are root.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const p = spawnCli(['rewrap', '--from', path.join(keys, 'a.json'), '--to', path.join(keys, 'b.json'), '--json', dir], {}, asUser);
    const r = await p.exited;
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout.toString());
    expect(s).toMatchObject({ done: 2, failed: 3 });
    const byInput = Object.fromEntries(
      s.failures.map((f: { input: string; code: string; message: string }) => [path.basename(f.input), f]),
    );
    expect(byInput['locked1.enc']).toMatchObject({ code: 'ENVELOPE_IO', message: expect.stringMatching(/permission denied \(EACCES\)$/) });
    expect(byInput['in-ro-dir.enc']).toMatchObject({
      code: 'ENVELOPE_OUTPUT',
      message: expect.stringMatching(/cannot write in .*ro \(EACCES\)$/),
    });
    expect(s.causes.find((c: { inputs: string[] }) => c.inputs.some((i) => i.endsWith('locked1.enc')))).toBeDefined();
    expect(await opens(path.join(dir, 'ok1.enc'), b.keyring)).toBeDefined();
    await chmod(path.join(dir, 'ro'), 0o755);
    expect(await opens(path.join(dir, 'ro', 'in-ro-dir.enc'), a.keyring)).toBeDefined();
  });
});
