/**
 * Core's judgements as the CLI shows them: `-c __proto__=x` is an ordinary pair (15.i2), a file
 * that is not a message says so, and a `-c` pair the message was not written with is named
 * (issue 14, point 5).
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseContextPairs } from '../src/context-pairs.js';
import { run } from './helpers.js';

const aes = (name = 'key-1', key = randomBytes(32)) =>
  JSON.stringify({ type: 'raw-aes', namespace: 'cli-test', name, key: key.toString('base64') });

describe('-c pairs and the errors users meet', () => {
  it('15.i2: -c __proto__=x is stored in the header and required on decrypt', async () => {
    expect(Object.keys(parseContextPairs(['__proto__=x', 'constructor=y'])!)).toEqual(['__proto__', 'constructor']);
    const k = aes();
    const enc = await run(['encrypt', '--keyring', k, '-c', '__proto__=x', '--suite', '0x0478'], 'proto');
    expect(enc.code).toBe(0);
    const info = JSON.parse((await run(['inspect', '--json'], enc.stdout)).stdout.toString());
    expect(Object.keys(info.encryptionContext)).toEqual(['__proto__']);
    expect(info.encryptionContext['__proto__']).toBe('x');
    expect((await run(['decrypt', '--keyring', k, '-c', '__proto__=x'], enc.stdout)).stdout.toString()).toBe('proto');
    const wrong = await run(['decrypt', '--keyring', k, '-c', '__proto__=other'], enc.stdout);
    expect(wrong.stderr).toMatch(/^envelope: ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH: .*"__proto__"/);
  });

  it('a message with bytes after it is malformed, not "not a message", through stdin and --in alike', async () => {
    const k = aes();
    const enc = await run(['encrypt', '--keyring', k], 'hello');
    const bad = Buffer.concat([enc.stdout, Buffer.from('trailing')]);
    const piped = await run(['decrypt', '--keyring', k], bad);
    expect(piped.code).toBe(1);
    expect(piped.stderr).toMatch(/^envelope: ENVELOPE_MALFORMED_MESSAGE: .*trailing bytes/);
    expect(piped.stdout.byteLength).toBe(0);
    const dir = await mkdtemp(path.join(tmpdir(), 'envelope-cli-trailing-'));
    try {
      await writeFile(path.join(dir, 'm'), bad);
      const file = await run(['decrypt', '--keyring', k, '--in', path.join(dir, 'm')]);
      expect(file.stderr).toMatch(/^envelope: ENVELOPE_MALFORMED_MESSAGE: .*trailing bytes/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a file that is not a message: "not an envelope message"', async () => {
    const r = await run(['decrypt', '--keyring', aes()], Buffer.from('&this is a text file\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_NOT_A_MESSAGE: not an envelope message: /);
  });

  it('a -c pair the message does not have: "context pair not in the message", naming the key, not the value', async () => {
    const k = aes();
    const enc = await run(['encrypt', '--keyring', k, '-c', 'app=a'], 'x');
    const r = await run(['decrypt', '--keyring', k, '-c', 'app=a', '-c', 'tenant=SECRET-VALUE'], enc.stdout);
    expect(r.code).toBe(1);
    // Core names the key ("context pair not in the message: key \"tenant\" …"); the CLI may rephrase it.
    expect(r.stderr).toMatch(
      /^envelope: ENVELOPE_\w+: (context pair not in the message: key "tenant"|context pairs? "tenant".* not in the message)/,
    );
    expect(r.stderr).not.toContain('SECRET-VALUE');
  });
});
