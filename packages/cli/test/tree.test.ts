// encrypt -r / decrypt -r: a tree mirrored, links and special files skipped and counted, one
// failure not stopping the others, failures grouped by cause, metadata lines, and one materials
// manager for the whole batch.
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { aesConfig, run, scratch } from './helpers.js';

async function tree(root: string, n: number): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const rel = path.join(`d${i % 3}`, i % 2 ? `e${i % 4}` : '', `f${i}.txt`);
    await mkdir(path.join(root, path.dirname(rel)), { recursive: true });
    const data = randomBytes(100 + i * 37);
    await writeFile(path.join(root, rel), data);
    files.set(rel, data);
  }
  return files;
}

async function listAll(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => path.relative(root, path.join(d.parentPath, d.name)))
    .sort();
}

describe('-r: many files', () => {
  it('mirrors a nested tree both ways; links and special files are skipped and counted, never followed', async () => {
    const dir = await scratch('envelope-tree-');
    const src = path.join(dir, 'src');
    const files = await tree(src, 12);
    await writeFile(path.join(dir, 'outside.txt'), 'must not be read through a link');
    await symlink(path.join(dir, 'outside.txt'), path.join(src, 'd0', 'link.txt'));
    await symlink(path.join(dir), path.join(src, 'dirlink'));
    execFileSync('mkfifo', [path.join(src, 'd1', 'fifo')]);
    const k = aesConfig();

    const enc = await run(['encrypt', '--keyring', k, '-r', '--in', src, '--out', path.join(dir, 'enc'), '--json', '-j', '3']);
    expect(enc.stderr).toBe('');
    expect(enc.code).toBe(0);
    const summary = JSON.parse(enc.stdout.toString());
    expect(summary).toMatchObject({ files: 15, done: 12, skipped: 3, failed: 0, failures: [] });
    expect(summary.skips.map((s: { reason: string }) => s.reason).sort()).toEqual(['special file', 'symbolic link', 'symbolic link']);
    expect(await listAll(path.join(dir, 'enc'))).toEqual([...files.keys()].map((f) => `${f}.enc`).sort());

    const dec = await run(['decrypt', '--keyring', k, '-r', '--in', path.join(dir, 'enc'), '--out', path.join(dir, 'dec')]);
    expect(dec.code).toBe(0);
    expect(dec.stdout.toString()).toMatch(/^decrypted 12, skipped 0, failed 0 of 12 files; /);
    for (const [rel, data] of files) expect((await readFile(path.join(dir, 'dec', rel))).equals(data)).toBe(true);
    expect(await listAll(path.join(dir, 'dec'))).toEqual([...files.keys()].sort());
  });

  it('one failure does not stop the others; exit 1; many failures of one cause print once with a count', async () => {
    const dir = await scratch('envelope-tree-');
    const src = path.join(dir, 'src');
    await tree(src, 6);
    const k = aesConfig();
    expect((await run(['encrypt', '--keyring', k, '-r', '--in', src, '--out', path.join(dir, 'enc')])).code).toBe(0);
    // Damage one message; and a plain file with the suffix that is no message at all.
    const victim = path.join(dir, 'enc', 'd0', 'f0.txt.enc');
    const bytes = await readFile(victim);
    bytes[bytes.length - 20]! ^= 1;
    await writeFile(victim, bytes);
    await writeFile(path.join(dir, 'enc', 'junk.enc'), 'not a message');
    await writeFile(path.join(dir, 'enc', 'notes.txt'), 'no suffix');

    const r = await run(['decrypt', '--keyring', k, '-r', '--in', path.join(dir, 'enc'), '--out', path.join(dir, 'dec'), '--json']);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout.toString());
    expect(s).toMatchObject({ done: 5, failed: 2, skipped: 1 });
    expect(s.failures.map((f: { code: string }) => f.code).sort()).toEqual(['ENVELOPE_AUTHENTICATION_FAILED', 'ENVELOPE_NOT_A_MESSAGE']);
    expect(s.skips).toEqual([{ input: path.join(dir, 'enc', 'notes.txt'), reason: 'no .enc suffix' }]);
    expect(await readdir(path.join(dir, 'dec', 'd0'))).not.toContain('f0.txt');

    // A wrong key: every file fails for the same cause, reported once.
    const wrong = await run(['decrypt', '--keyring', aesConfig(), '-r', '--in', path.join(dir, 'enc'), '--out', path.join(dir, 'dec2')]);
    expect(wrong.code).toBe(1);
    const lines = wrong.stderr.trim().split('\n');
    const noKey = lines.filter((l) => l.startsWith('envelope: ENVELOPE_NO_DECRYPTABLE_KEY: '));
    expect(noKey).toHaveLength(1);
    expect(noKey[0]).toMatch(/\(6 files: .*, …\)$/);
    expect(wrong.stdout.toString()).toMatch(/decrypted 0, skipped 1 \(1 × no \.enc suffix\), failed 7 of 8 files/);
  });

  it('--metadata-output writes one JSON line per message with the fields of DESIGN.md; --suffix and --no-overwrite', async () => {
    const dir = await scratch('envelope-tree-');
    const src = path.join(dir, 'src');
    const files = await tree(src, 4);
    const k = aesConfig('meta');
    const meta = path.join(dir, 'meta.jsonl');
    const r = await run([
      'encrypt',
      '--keyring',
      k,
      '-r',
      '--in',
      src,
      '--out',
      path.join(dir, 'enc'),
      '--suffix',
      '.sealed',
      '-c',
      'team=ops',
      '--metadata-output',
      meta,
    ]);
    expect(r.code).toBe(0);
    const lines = (await readFile(meta, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    for (const m of lines) {
      expect(Object.keys(m).sort()).toEqual(
        ['encryptedDataKeys', 'encryptionContext', 'frameLength', 'input', 'messageId', 'operation', 'output', 'suite', 'warnings'].sort(),
      );
      expect(m).toMatchObject({
        operation: 'encrypt',
        suite: '0x0578',
        frameLength: 65536,
        encryptionContext: { team: 'ops' },
        encryptedDataKeys: [{ providerId: 'cli-test', key: 'meta' }],
        warnings: [],
      });
      expect(m.output).toBe(path.join(dir, 'enc', `${path.relative(src, m.input)}.sealed`));
      expect(Buffer.from(m.messageId, 'base64')).toHaveLength(32);
    }
    expect(new Set(lines.map((m) => m.input))).toEqual(new Set([...files.keys()].map((f) => path.join(src, f))));

    const again = await run([
      'encrypt',
      '--keyring',
      k,
      '-r',
      '--in',
      src,
      '--out',
      path.join(dir, 'enc'),
      '--suffix',
      '.sealed',
      '--no-overwrite',
      '--json',
    ]);
    expect(JSON.parse(again.stdout.toString())).toMatchObject({ done: 0, skipped: 4, failed: 0 });
  });

  it('checks the arguments before any work: --out inside --in, a missing --in, a file given to -r', async () => {
    const dir = await scratch('envelope-tree-');
    await writeFile(path.join(dir, 'a'), 'x');
    const k = aesConfig();
    expect((await run(['encrypt', '--keyring', k, '-r', '--in', dir, '--out', path.join(dir, 'sub')])).stderr).toBe(
      'envelope: ENVELOPE_USAGE: --out must not be --in or inside it\n',
    );
    expect(
      (await run(['encrypt', '--keyring', k, '-r', '--in', path.join(dir, 'nope'), '--out', path.join(dir, '..', 'o')])).stderr,
    ).toMatch(/^envelope: ENVELOPE_IO: --in .*nope: no such directory\n$/);
    expect((await run(['encrypt', '--keyring', k, '-r', '--in', path.join(dir, 'a'), '--out', `${dir}-o`])).stderr).toMatch(
      /^envelope: ENVELOPE_USAGE: --in .* is not a directory/,
    );
    expect((await run(['encrypt', '--keyring', k, '--in', dir])).stderr).toMatch(
      /^envelope: ENVELOPE_USAGE: --in .* is a directory; use -r/,
    );
    expect((await run(['encrypt', '--keyring', k, '-r', '--in', dir, '--out', path.join(dir, 'x', 'y', 'z')])).stderr).toMatch(
      /^envelope: ENVELOPE_USAGE: --out must not be/,
    );
    expect((await run(['encrypt', '--keyring', k, '-r', '--in', dir, '--out', `${dir}-missing/deeper`])).stderr).toMatch(
      /^envelope: ENVELOPE_OUTPUT: .*deeper: the directory .* does not exist\n$/,
    );
  });

  it('a TTY shows one progress bar over files and bytes', async () => {
    const dir = await scratch('envelope-tree-');
    await tree(path.join(dir, 'src'), 5);
    const r = await run(
      ['encrypt', '--keyring', aesConfig(), '-r', '--in', path.join(dir, 'src'), '--out', path.join(dir, 'enc')],
      '',
      {},
      { stderr: true },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\r\[#{24}\] 100% 5\/5 files, /);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
