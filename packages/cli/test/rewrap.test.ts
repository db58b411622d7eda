import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { decrypt, encrypt, parseHeader } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';
import { run, spawnCli } from './helpers.js';

function keyPair(name: string) {
  const key = randomBytes(32);
  return {
    config: JSON.stringify({ type: 'raw-aes', namespace: 'rewrap-test', name, key: key.toString('base64') }),
    keyring: new RawAesKeyring({ keyNamespace: 'rewrap-test', keyName: name, wrappingKey: key }),
  };
}

async function opensWith(bytes: Uint8Array, keyring: RawAesKeyring): Promise<Buffer | undefined> {
  try {
    return Buffer.from((await decrypt(bytes, { keyring })).plaintext);
  } catch {
    return undefined;
  }
}

async function makeFiles(dir: string, n: number, keyring: RawAesKeyring, suite = 0x0478, size = 20_000): Promise<Map<string, Buffer>> {
  const plain = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const pt = randomBytes(size);
    const f = path.join(dir, `f${String(i).padStart(3, '0')}.enc`);
    await writeFile(f, (await encrypt(pt, { keyring, suite })).ciphertext);
    plain.set(f, pt);
  }
  return plain;
}

describe('envelope rewrap', () => {
  it('replace, then rerun skips; add; wrong --from leaves files untouched; --json summary', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'envelope-rewrap-'));
    const a = keyPair('a');
    const b = keyPair('b');
    const c = keyPair('c');
    const plain = await makeFiles(dir, 5, a.keyring);
    await makeFiles(await mkdtemp(path.join(dir, 'sub-')), 1, a.keyring, 0x0578); // a signed one, in a subdirectory

    const r1 = await run(['rewrap', '--from', a.config, '--to', b.config, '--json', dir]);
    expect(r1.code).toBe(0);
    expect(JSON.parse(r1.stdout.toString())).toMatchObject({ files: 6, rewrapped: 6, reencrypted: 1, skipped: 0, failed: 0 });
    for (const [f, pt] of plain) {
      const bytes = await readFile(f);
      expect((await opensWith(bytes, b.keyring))?.equals(pt)).toBe(true);
      expect(await opensWith(bytes, a.keyring)).toBeUndefined();
    }
    const r2 = await run(['rewrap', '--from', a.config, '--to', b.config, '--json', dir]);
    expect(JSON.parse(r2.stdout.toString())).toMatchObject({ rewrapped: 0, skipped: 6 });

    const r3 = await run(['rewrap', '--from', b.config, '--to', c.config, '--mode', 'add', ...plain.keys()]);
    expect(r3.code).toBe(0);
    expect(r3.stdout.toString()).toMatch(/rewrapped 5, .* of 5 files/);
    for (const [f, pt] of plain) {
      const bytes = await readFile(f);
      expect((await opensWith(bytes, b.keyring))?.equals(pt)).toBe(true);
      expect((await opensWith(bytes, c.keyring))?.equals(pt)).toBe(true);
    }

    const before = await Promise.all([...plain.keys()].map((f) => readFile(f)));
    const wrong = keyPair('wrong');
    const r4 = await run(['rewrap', '--from', wrong.config, '--to', a.config, ...plain.keys()]);
    expect(r4.code).toBe(1);
    expect(r4.stderr).toMatch(/ENVELOPE_NO_DECRYPTABLE_KEY/);
    const after = await Promise.all([...plain.keys()].map((f) => readFile(f)));
    after.forEach((x, i) => expect(x.equals(before[i]!)).toBe(true));
  });

  it('remove drops EDKs but refuses to remove the last usable one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'envelope-rewrap-'));
    const a = keyPair('a');
    const b = keyPair('b');
    await makeFiles(dir, 2, a.keyring);
    await run(['rewrap', '--from', a.config, '--to', b.config, '--mode', 'add', dir]);
    const refused = await run(['rewrap', '--from', b.config, '--mode', 'remove', '--remove-key', 'b', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ENVELOPE_REWRAP_REFUSED/);
    const ok = await run(['rewrap', '--from', b.config, '--mode', 'remove', '--remove-key', 'a', dir]);
    expect(ok.code).toBe(0);
    for (const f of await readdir(dir)) {
      const h = parseHeader(await readFile(path.join(dir, f)), { maxEncryptedDataKeys: 10, maxFrameLength: 1 << 20 });
      expect(h.encryptedDataKeys).toHaveLength(1);
    }
  });

  it('--shard splits the sorted file list', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'envelope-rewrap-'));
    const a = keyPair('a');
    const b = keyPair('b');
    await makeFiles(dir, 5, a.keyring);
    const s1 = JSON.parse((await run(['rewrap', '--from', a.config, '--to', b.config, '--shard', '1/2', '--json', dir])).stdout.toString());
    const s2 = JSON.parse((await run(['rewrap', '--from', a.config, '--to', b.config, '--shard', '2/2', '--json', dir])).stdout.toString());
    expect([s1.files, s2.files]).toEqual([3, 2]);
    expect(s1.rewrapped + s2.rewrapped).toBe(5);
  });

  it('crash safety: SIGKILL at many points leaves every file old or new, and a rerun finishes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'envelope-crash-'));
    const a = keyPair('a');
    const b = keyPair('b');
    const plain = await makeFiles(dir, 40, a.keyring, 0x0478, 50_000);
    let killed = 0;
    for (let round = 0; round < 8; round++) {
      // Killed right after its k-th temporary opened, or after its k-th rename: points the child reports.
      const event = round % 2 ? /^envelope: debug: renamed / : /^envelope: debug: temp /;
      const p = spawnCli(['rewrap', '--from', a.config, '--to', b.config, '--concurrency', '8', dir]);
      await p.nth(event, 1 + (round % 5)).then(
        () => p.child.kill('SIGKILL') && killed++,
        () => {}, // it finished first: fine
      );
      await p.exited;
      // Every file is either the old message or the new one, never broken.
      for (const [f, pt] of plain) {
        const bytes = await readFile(f);
        const opened = (await opensWith(bytes, a.keyring)) ?? (await opensWith(bytes, b.keyring));
        expect(opened?.equals(pt), `${f} after round ${round}`).toBe(true);
      }
    }
    expect(killed).toBeGreaterThan(0);
    const done = await run(['rewrap', '--from', a.config, '--to', b.config, '--json', dir]);
    expect(done.code).toBe(0);
    for (const [f, pt] of plain) expect((await opensWith(await readFile(f), b.keyring))?.equals(pt)).toBe(true);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);
});
