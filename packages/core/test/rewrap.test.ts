import { describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  MultiKeyring,
  RequiredEncryptionContextMaterialsManager,
  decrypt,
  encrypt,
  encryptionContextFromPairs,
  parseHeader,
  rewrap,
  rewrapStream,
} from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';

const oldKey = new TestKeyring('old', Buffer.alloc(32, 1));
const newKey = new TestKeyring('new', Buffer.alloc(32, 2));
const drKey = new TestKeyring('dr', Buffer.alloc(32, 3));
const limits = { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 26 };
const names = (m: Uint8Array) => parseHeader(m, limits).encryptedDataKeys.map((e) => Buffer.from(e.providerInfo).toString());

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

describe('rewrap, unsigned (header-only)', () => {
  const pt = pattern(100_000);
  const made = encrypt(pt, { keyring: oldKey, suite: 0x0478, encryptionContext: { app: 'x' }, frameLength: 4096 });

  it('replace: new EDKs only; message id, context, suite and body unchanged; old key no longer decrypts', async () => {
    const { ciphertext } = await made;
    const before = parseHeader(ciphertext, limits);
    const r = await rewrap(ciphertext, { from: oldKey, to: newKey, mode: 'replace' });
    expect(r.method).toBe('header-only');
    expect(r).toMatchObject({ added: 1, removed: 1 });
    const after = parseHeader(r.message, limits);
    expect(Buffer.from(after.messageId).equals(Buffer.from(before.messageId))).toBe(true);
    expect(after.encryptionContext).toEqual(before.encryptionContext);
    expect(after.suite.id).toBe(0x0478);
    expect(Buffer.from(after.suiteData).equals(Buffer.from(before.suiteData))).toBe(true);
    expect(Buffer.from(r.message.subarray(after.length)).equals(Buffer.from(ciphertext.subarray(before.length)))).toBe(true);
    expect(names(r.message)).toEqual(['new']);
    expect(Buffer.from((await decrypt(r.message, { keyring: newKey })).plaintext).equals(pt)).toBe(true);
    await expect(decrypt(r.message, { keyring: oldKey })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    // O(header): the parts are the new header and a view of the original body (no copy).
    expect(r.parts![1].buffer).toBe(ciphertext.buffer);
    expect(Buffer.concat([r.parts![0], r.parts![1]]).equals(Buffer.from(r.message))).toBe(true);
  });

  it('add: keeps the old EDKs and adds new ones; both decrypt', async () => {
    const { ciphertext } = await made;
    const r = await rewrap(ciphertext, { from: oldKey, to: [newKey, drKey], mode: 'add' });
    expect(names(r.message)).toEqual(['old', 'new', 'dr']);
    for (const k of [oldKey, newKey, drKey])
      expect(Buffer.from((await decrypt(r.message, { keyring: k })).plaintext).equals(pt)).toBe(true);
  });

  it('remove: drops matching EDKs but refuses to drop the last one the keep keyring can use', async () => {
    const { ciphertext } = await made;
    const both = (await rewrap(ciphertext, { from: oldKey, to: newKey, mode: 'add' })).message;
    const isOld = (e: { providerInfo: Uint8Array }) => Buffer.from(e.providerInfo).toString() === 'old';
    const r = await rewrap(both, { from: oldKey, keep: newKey, mode: 'remove', remove: isOld });
    expect(r).toMatchObject({ removed: 1, added: 0 });
    expect(names(r.message)).toEqual(['new']);
    await expect(rewrap(both, { from: oldKey, mode: 'remove', remove: isOld })).rejects.toMatchObject({ code: 'ENVELOPE_REWRAP_REFUSED' });
    await expect(rewrap(both, { from: oldKey, mode: 'remove', remove: () => true })).rejects.toMatchObject({
      code: 'ENVELOPE_REWRAP_REFUSED',
    });
  });

  it('a wrong "from" keyring is a coded error', async () => {
    const { ciphertext } = await made;
    await expect(rewrap(ciphertext, { from: drKey, to: newKey })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
  });

  it('a tampered header is refused, not re-authenticated', async () => {
    const { ciphertext } = await made;
    const bad = Buffer.from(ciphertext);
    const h = parseHeader(ciphertext, limits);
    bad[h.length - 1]! ^= 1; // header tag
    await expect(rewrap(bad, { from: oldKey, to: newKey })).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
  });

  it('keeps required-context pairs authenticated (and out of the header)', async () => {
    const cmm = new RequiredEncryptionContextMaterialsManager({ underlying: oldKey, requiredEncryptionContextKeys: ['tenant'] });
    const { ciphertext } = await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { tenant: 't1', app: 'x' } });
    // Without the required pair the keyring's unwrap (bound to the full context) fails.
    await expect(rewrap(ciphertext, { from: oldKey, to: newKey })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    const r = await rewrap(ciphertext, { from: oldKey, to: newKey, encryptionContext: { tenant: 't1' } });
    expect(parseHeader(r.message, limits).encryptionContext).toEqual({ app: 'x' });
    await expect(decrypt(r.message, { keyring: newKey })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    const out = await decrypt(r.message, { keyring: newKey, encryptionContext: { tenant: 't1' } });
    expect(Buffer.from(out.plaintext).equals(pt)).toBe(true);
  });

  it('streams: the body passes through unchanged', async () => {
    const { ciphertext } = await made;
    const parts: Buffer[] = [];
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < ciphertext.length; i += 1000) chunks.push(ciphertext.subarray(i, i + 1000));
    await pipeline(
      Readable.from(chunks),
      rewrapStream({ from: oldKey, to: newKey }),
      new Writable({
        write(c, _e, cb) {
          parts.push(c);
          cb();
        },
      }),
    );
    const out = Buffer.concat(parts);
    expect(names(out)).toEqual(['new']);
    expect(Buffer.from((await decrypt(out, { keyring: newKey })).plaintext).equals(pt)).toBe(true);
  });
});

describe('rewrap, signed (re-encrypted)', () => {
  it('replace re-encrypts with a fresh signing key and says so', async () => {
    const pt = pattern(10_000);
    const { ciphertext } = await encrypt(pt, { keyring: oldKey, suite: 0x0578, encryptionContext: { app: 'y' } });
    const r = await rewrap(ciphertext, { from: oldKey, to: newKey });
    expect(r.method).toBe('re-encrypted');
    expect(r.messageInfo.suiteId).toBe(0x0578);
    expect(names(r.message)).toEqual(['new']);
    const out = await decrypt(r.message, { keyring: newKey });
    expect(Buffer.from(out.plaintext).equals(pt)).toBe(true);
    expect(out.encryptionContext.app).toBe('y');
    expect(out.encryptionContext['aws-crypto-public-key']).not.toBe(
      parseHeader(ciphertext, limits).encryptionContext['aws-crypto-public-key'],
    );
  });

  it('add re-encrypts under from and to', async () => {
    const { ciphertext } = await encrypt(pattern(100), { keyring: oldKey, suite: 0x0578 });
    const r = await rewrap(ciphertext, { from: new MultiKeyring({ generator: oldKey }), to: drKey, mode: 'add' });
    expect(names(r.message)).toEqual(['old', 'dr']);
    await decrypt(r.message, { keyring: oldKey });
    await decrypt(r.message, { keyring: drKey });
  });

  it('a bad signature is refused (nothing re-signed)', async () => {
    const { ciphertext } = await encrypt(pattern(100), { keyring: oldKey, suite: 0x0578 });
    const bad = Buffer.from(ciphertext);
    bad[bad.length - 3]! ^= 1;
    await expect(rewrap(bad, { from: oldKey, to: newKey })).rejects.toMatchObject({ code: 'ENVELOPE_AUTHENTICATION_FAILED' });
  });
});

describe('rewrap, signed, with required encryption context', () => {
  const pt = pattern(20_000);
  const required = () => new RequiredEncryptionContextMaterialsManager({ underlying: oldKey, requiredEncryptionContextKeys: ['tenant'] });

  it('15.2: a signed rewrap keeps required-context values out of the new header, and they stay required', async () => {
    const { ciphertext } = await encrypt(pt, {
      materialsManager: required(),
      suite: 0x0578,
      encryptionContext: { tenant: 'tenant-1', app: 'x' },
    });
    expect(Object.keys(parseHeader(ciphertext, limits).encryptionContext).sort()).toEqual(['app', 'aws-crypto-public-key']);
    const viaBuffer = (await rewrap(ciphertext, { from: oldKey, to: newKey, encryptionContext: { tenant: 'tenant-1' } })).message;
    const viaStream = await streamed(rewrapStream({ from: oldKey, to: newKey, encryptionContext: { tenant: 'tenant-1' } }), ciphertext);
    for (const r of [viaBuffer, viaStream]) {
      const stored = parseHeader(r, limits).encryptionContext;
      expect(Object.keys(stored).sort()).toEqual(['app', 'aws-crypto-public-key']);
      // ('-' is not in base64: the public key's value cannot contain it by chance.)
      expect(JSON.stringify(stored)).not.toContain('tenant-1');
      // Still required: a plain decrypt fails, the reproduced pair decrypts, a wrong value fails.
      await expect(decrypt(r, { keyring: newKey })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
      await expect(decrypt(r, { keyring: newKey, encryptionContext: { tenant: 'tenant-2' } })).rejects.toMatchObject({
        code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
      });
      const out = await decrypt(r, { keyring: newKey, encryptionContext: { tenant: 'tenant-1' } });
      expect(Buffer.from(out.plaintext).equals(pt)).toBe(true);
      expect(out.encryptionContext).toMatchObject({ tenant: 'tenant-1', app: 'x' });
    }
  });

  it('15.i2: a signed rewrap keeps a context key named __proto__', async () => {
    const ec = encryptionContextFromPairs([
      ['__proto__', 'p'],
      ['app', 'x'],
    ]);
    const { ciphertext } = await encrypt(pt, { keyring: oldKey, suite: 0x0578, encryptionContext: ec });
    const r = (await rewrap(ciphertext, { from: oldKey, to: newKey })).message;
    const stored = parseHeader(r, limits).encryptionContext;
    expect(Object.keys(stored).sort()).toEqual(['__proto__', 'app', 'aws-crypto-public-key']);
    expect(stored['__proto__']).toBe('p');
    const out = await decrypt(r, { keyring: newKey, encryptionContext: ec });
    expect(Buffer.from(out.plaintext).equals(pt)).toBe(true);
  });
});

async function streamed(t: NodeJS.ReadWriteStream, message: Uint8Array, chunkSize = 1000): Promise<Buffer> {
  const parts: Buffer[] = [];
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < message.length; i += chunkSize) chunks.push(message.subarray(i, i + chunkSize));
  await pipeline(
    Readable.from(chunks),
    t,
    new Writable({
      write(c, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}
