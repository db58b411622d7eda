/**
 * The errors users meet (issue 14, point 5): a file that is not a message says so, and a
 * reproduced context pair the message was not written with is named (its key, never its value)
 * instead of surfacing only as an authentication failure. Every other authentication failure
 * stays the one fixed error.
 */
import { describe, expect, it } from 'vitest';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AUTH_FAILED_MESSAGE,
  HeaderParser,
  RequiredEncryptionContextMaterialsManager,
  StreamDecryptor,
  decrypt,
  decryptStream,
  encrypt,
  parseHeader,
  readMessageHeader,
  rewrap,
  rewrapStream,
  type DecryptionMaterials,
  type EncryptedDataKey,
  type EncryptionMaterials,
  type Keyring,
} from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';
import { forgedHeader } from './helpers/forged-header.js';

const keyring = new TestKeyring();
const limits = { maxEncryptedDataKeys: 10, maxFrameLength: 1 << 20 };
const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

/** Wraps the data key without binding the context (as RSA keyrings do): only the header tag covers it. */
class ContextFreeKeyring implements Keyring {
  readonly #key = Buffer.alloc(32, 9);
  async onEncrypt(m: EncryptionMaterials): Promise<EncryptionMaterials> {
    if (!m.hasDataKey) m.setDataKey(randomBytes(m.suite.keyLength));
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    const dk = m.getDataKey();
    m.addEncryptedDataKey({
      providerId: 'free',
      providerInfo: Buffer.from('k'),
      ciphertext: Buffer.concat([iv, c.update(dk), c.final(), c.getAuthTag()]),
    });
    dk.fill(0);
    return m;
  }
  async onDecrypt(m: DecryptionMaterials, edks: readonly EncryptedDataKey[]): Promise<DecryptionMaterials> {
    for (const e of edks) {
      if (e.providerId !== 'free') continue;
      const d = createDecipheriv('aes-256-gcm', this.#key, e.ciphertext.subarray(0, 12));
      d.setAuthTag(e.ciphertext.subarray(e.ciphertext.length - 16));
      const dk = Buffer.concat([d.update(e.ciphertext.subarray(12, e.ciphertext.length - 16)), d.final()]);
      m.setDataKey(dk);
      dk.fill(0);
    }
    return m;
  }
}

describe('not an envelope message', () => {
  const random = Buffer.concat([Buffer.from('&random file contents\n'), randomBytes(500)]);

  it('a random file is "not an envelope message" from every reader (not "unsupported message format version 38")', async () => {
    const expected = { code: 'ENVELOPE_NOT_A_MESSAGE', message: expect.stringMatching(/^not an envelope message: its first byte 0x26/) };
    await expect(decrypt(random, { keyring })).rejects.toMatchObject(expected);
    await expect(pipeline(Readable.from([random]), decryptStream({ keyring }), sink())).rejects.toMatchObject(expected);
    await expect(rewrap(random, { from: keyring, to: keyring })).rejects.toMatchObject(expected);
    await expect(pipeline(Readable.from([random]), rewrapStream({ from: keyring, to: keyring }), sink())).rejects.toMatchObject(expected);
    await expect(readMessageHeader(Readable.from([random]), limits)).rejects.toMatchObject(expected);
    expect(() => parseHeader(random, limits)).toThrow(expect.objectContaining(expected));
    expect(() => new HeaderParser(limits).push(random.subarray(0, 1))).toThrow(expect.objectContaining(expected));
  });

  it('an empty input, and a base64-encoded message, say what they are', async () => {
    await expect(decrypt(new Uint8Array(0), { keyring })).rejects.toMatchObject({
      code: 'ENVELOPE_NOT_A_MESSAGE',
      message: 'not an envelope message: the input is empty',
    });
    const d = new StreamDecryptor({ keyring });
    await expect(d.finish()).rejects.toMatchObject({ code: 'ENVELOPE_NOT_A_MESSAGE' });
    const { ciphertext } = await encrypt(Buffer.from('x'), { keyring, suite: 0x0478 });
    await expect(decrypt(Buffer.from(Buffer.from(ciphertext).toString('base64')), { keyring })).rejects.toMatchObject({
      code: 'ENVELOPE_NOT_A_MESSAGE',
      message: expect.stringMatching(/base64/),
    });
  });
});

describe('context pair not in the message', () => {
  it('a reproduced pair the keyring binds: the error names the key (never the value) before the keyring failure', async () => {
    const { ciphertext } = await encrypt(Buffer.from('x'), { keyring, suite: 0x0478, encryptionContext: { app: 'a' } });
    const e = await decrypt(ciphertext, { keyring, encryptionContext: { app: 'a', tenant: 'VALUE-SECRET' } }).catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
      message: expect.stringMatching(/^context pair not in the message: key "tenant" .*; .*could not unwrap/),
    });
    expect((e as Error).message).not.toContain('VALUE-SECRET');
    expect((e as { causes: unknown[] }).causes.length).toBeGreaterThan(0);
  });

  it('a reproduced pair only the header tag covers: ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH naming the key, streams too', async () => {
    const free = new ContextFreeKeyring();
    for (const suite of [0x0478, 0x0578]) {
      const { ciphertext } = await encrypt(Buffer.from('x'), { keyring: free, suite, encryptionContext: { app: 'a' } });
      const expected = {
        code: 'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH',
        message: expect.stringMatching(/^context pair not in the message: keys "tenant", "region"/),
        cause: expect.objectContaining({ code: 'ENVELOPE_AUTHENTICATION_FAILED' }),
      };
      const ec = { tenant: 'VALUE-SECRET', region: 'VALUE-2' };
      const e = await decrypt(ciphertext, { keyring: free, encryptionContext: ec }).catch((x: unknown) => x);
      expect(e).toMatchObject(expected);
      expect((e as Error).message).not.toMatch(/VALUE/);
      await expect(
        pipeline(Readable.from([ciphertext]), decryptStream({ keyring: free, encryptionContext: ec }), sink()),
      ).rejects.toMatchObject(expected);
    }
  });

  it('the spec’s behaviour is kept: a pair absent from the stored context is required context, and decrypts when it is', async () => {
    const free = new ContextFreeKeyring();
    const cmm = new RequiredEncryptionContextMaterialsManager({ underlying: free, requiredEncryptionContextKeys: ['tenant'] });
    const { ciphertext } = await encrypt(Buffer.from('x'), { materialsManager: cmm, suite: 0x0478, encryptionContext: { tenant: 't' } });
    expect(parseHeader(ciphertext, limits).encryptionContext).toEqual({});
    const out = await decrypt(ciphertext, { keyring: free, encryptionContext: { tenant: 't' } });
    expect(Buffer.from(out.plaintext).toString()).toBe('x');
    await expect(decrypt(ciphertext, { keyring: free, encryptionContext: { tenant: 'u' } })).rejects.toMatchObject({
      code: 'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH',
    });
  });

  it('without such pairs, every authentication failure is the one fixed error', async () => {
    const free = new ContextFreeKeyring();
    const { ciphertext } = await encrypt(Buffer.from('x'), { keyring: free, suite: 0x0478, encryptionContext: { app: 'a' } });
    const h = parseHeader(ciphertext, limits);
    const tag = Buffer.from(ciphertext);
    tag[h.length - 1]! ^= 1;
    const body = Buffer.from(ciphertext);
    body[body.length - 1]! ^= 1;
    for (const bad of [tag, body]) {
      for (const ec of [undefined, { app: 'a' }]) {
        await expect(decrypt(bad, { keyring: free, encryptionContext: ec })).rejects.toMatchObject({
          code: 'ENVELOPE_AUTHENTICATION_FAILED',
          message: AUTH_FAILED_MESSAGE,
        });
      }
    }
  });
});

describe('what a message says about itself is not echoed at length', () => {
  it('the provider ids of a forged header are bounded and stripped of control characters in "no decryptable key"', async () => {
    const forged = forgedHeader({ edks: 8 }); // provider ids of 65,535 characters
    const e = await decrypt(forged, { keyring, maxHeaderLength: 2 * 1024 * 1024 }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    expect((e as Error).message.length).toBeLessThan(300);
    const { ciphertext } = await encrypt(Buffer.from('x'), {
      keyring: {
        onEncrypt: async (m) => {
          await keyring.onEncrypt(m);
          return m;
        },
        onDecrypt: async (m) => m,
      },
      suite: 0x0478,
    });
    // Rename the provider "test" to "\x1b[2J" (a terminal escape) in place: same length.
    const i = Buffer.from(ciphertext).indexOf('test');
    const bad = Buffer.from(ciphertext);
    bad.write('\x1b[2J', i, 'latin1');
    const e2 = await decrypt(bad, { keyring: { onEncrypt: async (m) => m, onDecrypt: async (m) => m } }).catch((x: unknown) => x);
    expect((e2 as Error).message).toMatch(/providers: "\?\[2J"/);
  });
});
