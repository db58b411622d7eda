// Signed messages (suite 0x0578, the default) of any size, with the security property kept: no
// plaintext is released before the signature verifies, unless --release-unverified (stdout).
// ENVELOPE_MAX_BUFFERED_BYTES lowers the most plaintext core may hold to 64 KiB, so a 1 MiB
// message shows what a 100 GiB one would: the CLI never holds a message in memory.
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { encrypt } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { main } from '../src/main.js';
import { run, scratch } from './helpers.js';

const LOW = { ENVELOPE_MAX_BUFFERED_BYTES: String(64 * 1024) };
const key = randomBytes(32);
const config = JSON.stringify({ type: 'raw-aes', namespace: 'signed', name: 'k', key: key.toString('base64') });
const keyring = new RawAesKeyring({ keyNamespace: 'signed', keyName: 'k', wrappingKey: key });

async function signed(size = 1024 * 1024, frameLength = 4096) {
  const plaintext = randomBytes(size);
  const ciphertext = Buffer.from((await encrypt(plaintext, { keyring, suite: 0x0578, frameLength })).ciphertext);
  // A forged signature: the last byte of the footer flipped. Every frame still authenticates.
  const forged = Buffer.from(ciphertext);
  forged[forged.length - 1]! ^= 1;
  return { plaintext, ciphertext, forged };
}

describe('decrypt of signed messages larger than any buffer', () => {
  it('--out: the whole message streams through the private temporary and appears once verified', async () => {
    const dir = await scratch('envelope-signed-');
    const { plaintext, ciphertext, forged } = await signed();
    const ok = await run(['decrypt', '--keyring', config, '--out', path.join(dir, 'p')], ciphertext, LOW);
    expect(ok.stderr).toBe('');
    expect((await readFile(path.join(dir, 'p'))).equals(plaintext)).toBe(true);

    const bad = await run(['decrypt', '--keyring', config, '--out', path.join(dir, 'q')], forged, LOW);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('envelope: ENVELOPE_AUTHENTICATION_FAILED: message authentication failed\n');
    expect(await readdir(dir)).toEqual(['p']);
  });

  it('stdout: nothing is written before the signature verifies (spooled), then everything', async () => {
    const { plaintext, ciphertext, forged } = await signed();
    const ok = await run(['decrypt', '--keyring', config], ciphertext, LOW);
    expect(ok.stderr).toBe('');
    expect(ok.stdout.equals(plaintext)).toBe(true);

    const bad = await run(['decrypt', '--keyring', config], forged, LOW);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^envelope: ENVELOPE_AUTHENTICATION_FAILED: /);
    expect(bad.stdout.byteLength).toBe(0);
  });

  it('--release-unverified streams authenticated frames before the signature is checked, but holds the final frame', async () => {
    const { plaintext, ciphertext, forged } = await signed(1024 * 1024 + 100);
    const ok = await run(['decrypt', '--keyring', config, '--release-unverified'], ciphertext, LOW);
    expect(ok.stdout.equals(plaintext)).toBe(true);

    // Half the forged message in, and the input stalls: its authenticated frames come out now.
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const got: Buffer[] = [];
    let err = '';
    stdout.on('data', (c: Buffer) => got.push(c));
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = main(['decrypt', '--keyring', config, '--release-unverified'], { stdin, stdout, stderr, env: LOW });
    stdin.write(forged.subarray(0, forged.length / 2));
    await once(stdout, 'data');
    expect(Buffer.concat(got).equals(plaintext.subarray(0, Buffer.concat(got).byteLength))).toBe(true);
    stdin.end(forged.subarray(forged.length / 2));
    expect(await code).toBe(1);
    expect(err).toMatch(/^envelope: ENVELOPE_AUTHENTICATION_FAILED: /);
    // Only authenticated regular frames were released; the final frame (the last 100 bytes) never was.
    const released = Buffer.concat(got);
    expect(released.byteLength).toBeLessThanOrEqual(1024 * 1024);
    expect(released.byteLength % 4096).toBe(0);
    expect(released.equals(plaintext.subarray(0, released.byteLength))).toBe(true);
  });

  it('--release-unverified is refused with --out (the file appears only once verified anyway)', async () => {
    const r = await run(['decrypt', '--keyring', config, '--release-unverified', '--out', '/tmp/x']);
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_USAGE: --release-unverified is for stdout only/);
  });

  it('unsigned messages stream frame by frame to stdout (no spool needed)', async () => {
    const plaintext = randomBytes(300_000);
    const ct = Buffer.from((await encrypt(plaintext, { keyring, suite: 0x0478, frameLength: 4096 })).ciphertext);
    const r = await run(['decrypt', '--keyring', config], ct, { ...LOW, ENVELOPE_DEBUG_EVENTS: '1' });
    expect(r.stdout.equals(plaintext)).toBe(true);
    expect(r.stderr).not.toMatch(/spool/);
    const s = await run(['decrypt', '--keyring', config], (await signed(1000)).ciphertext, { ENVELOPE_DEBUG_EVENTS: '1' });
    expect(s.stderr).toBe('envelope: debug: spool stdout\n');
  });
});
