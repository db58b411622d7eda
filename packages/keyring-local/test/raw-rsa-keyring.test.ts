import { describe, expect, it, vi } from 'vitest';
import { createPublicKey, createSecretKey, generateKeyPairSync, publicEncrypt, constants, randomBytes } from 'node:crypto';
import { MultiKeyring } from '@envelope/core';
import { MIN_RSA_BITS, RSA_PADDINGS, RawAesKeyring, RawRsaKeyring, pkcs1DecryptAvailable, type RsaPadding } from '@envelope/keyring-local';
import { decryptionMaterials, encryptionMaterials, expectCode, hex, isZero } from './helpers.js';

const pair = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PKCS1_AVAILABLE = pkcs1DecryptAvailable();

const OAEP: RsaPadding[] = ['oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512'];

function rsa(padding: RsaPadding, keys: { publicKey?: unknown; privateKey?: unknown } = pair, keyName = 'rsa-1', keyNamespace = 'ns') {
  return new RawRsaKeyring({
    keyNamespace,
    keyName,
    padding,
    publicKey: keys.publicKey as string,
    privateKey: keys.privateKey as string,
    allowPkcs1Decrypt: padding === 'pkcs1',
  });
}

async function wrapped(k: RawRsaKeyring, keyLength: 16 | 24 | 32 = 32) {
  const m = await k.onEncrypt(encryptionMaterials(keyLength));
  return { dataKey: m.getDataKey(), edks: m.encryptedDataKeys };
}

describe('RawRsaKeyring round trip', () => {
  for (const padding of OAEP) {
    it(`${padding}: wraps and unwraps 16/24/32-byte data keys; EDK = namespace, UTF-8 key name, 256-byte ciphertext`, async () => {
      const k = rsa(padding);
      for (const keyLength of [16, 24, 32] as const) {
        const { dataKey, edks } = await wrapped(k, keyLength);
        expect(edks).toHaveLength(1);
        expect(edks[0]!.providerId).toBe('ns');
        expect(hex(edks[0]!.providerInfo)).toBe(hex(Buffer.from('rsa-1')));
        expect(edks[0]!.ciphertext.byteLength).toBe(256);
        const d = await k.onDecrypt(decryptionMaterials(keyLength), edks);
        expect(hex(d.getDataKey())).toBe(hex(dataKey));
      }
    });
  }

  it('pkcs1: encrypting is allowed (for compatibility) and yields a PKCS#1 v1.5 EDK', async () => {
    const k = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa-1', padding: 'pkcs1', publicKey: pair.publicKey });
    const { edks } = await wrapped(k);
    expect(edks[0]!.ciphertext.byteLength).toBe(256);
  });

  // pkcs1 round trip and a wrong key: in pkcs1-child.test.ts (a child node with --security-revert=CVE-2023-46809).

  it.runIf(!PKCS1_AVAILABLE)(
    'pkcs1: this Node.js refuses PKCS#1 v1.5 decryption → ENVELOPE_UNSUPPORTED that says how to enable it',
    async () => {
      const k = rsa('pkcs1');
      const { edks } = await wrapped(k);
      const m = decryptionMaterials();
      const e = await expectCode(() => k.onDecrypt(m, edks), 'ENVELOPE_UNSUPPORTED');
      expect(e.message).toContain('--security-revert=CVE-2023-46809');
      expect(e.causes[0]).toMatchObject({ key: 'ns/rsa-1' });
      expect(m.hasDataKey).toBe(false);
    },
  );

  it('pkcs1DecryptAvailable() is true under --security-revert=CVE-2023-46809 (probing once: rsa-padding.test.ts)', () => {
    expect(pkcs1DecryptAvailable()).toBe(PKCS1_AVAILABLE);
    if (process.execArgv.includes('--security-revert=CVE-2023-46809')) expect(PKCS1_AVAILABLE).toBe(true);
  });

  it('accepts PEM strings, PEM bytes, DER (SPKI/PKCS#8/PKCS#1) and KeyObjects interchangeably', async () => {
    const pub = createPublicKey(pair.publicKey);
    const priv = other.privateKey; // a KeyObject
    const otherPub = other.publicKey;
    const forms: { publicKey: unknown; privateKey: unknown }[] = [
      { publicKey: otherPub, privateKey: priv },
      { publicKey: otherPub.export({ format: 'der', type: 'spki' }), privateKey: priv.export({ format: 'der', type: 'pkcs8' }) },
      { publicKey: otherPub.export({ format: 'der', type: 'pkcs1' }), privateKey: priv.export({ format: 'der', type: 'pkcs1' }) },
      {
        publicKey: Buffer.from(otherPub.export({ format: 'pem', type: 'spki' })),
        privateKey: Buffer.from(priv.export({ format: 'pem', type: 'pkcs1' })),
      },
      // One PEM for both: the public half of the private key is used to encrypt.
      { publicKey: priv.export({ format: 'pem', type: 'pkcs8' }), privateKey: priv.export({ format: 'pem', type: 'pkcs8' }) },
      { publicKey: priv, privateKey: priv },
    ];
    const reference = rsa('oaep-sha256', { publicKey: otherPub, privateKey: priv });
    for (const [i, keys] of forms.entries()) {
      const k = rsa('oaep-sha256', keys);
      const { dataKey, edks } = await wrapped(k);
      const d = await reference.onDecrypt(decryptionMaterials(), edks);
      expect(hex(d.getDataKey()), `form ${i}`).toBe(hex(dataKey));
    }
    expect(pub.type).toBe('public');
  });
});

describe('RawRsaKeyring key roles', () => {
  it('public-key-only: encrypts; cannot decrypt its own EDKs (coded error with cause); skips others', async () => {
    const pubOnly = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa-1', padding: 'oaep-sha256', publicKey: pair.publicKey });
    expect(pubOnly.canEncrypt).toBe(true);
    expect(pubOnly.canDecrypt).toBe(false);
    const { dataKey, edks } = await wrapped(pubOnly);
    const m = decryptionMaterials();
    const e = await expectCode(() => pubOnly.onDecrypt(m, edks), 'ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes[0]).toMatchObject({ key: 'ns/rsa-1', reason: expect.stringContaining('no private key') });
    expect(m.hasDataKey).toBe(false);
    const notMine = await wrapped(rsa('oaep-sha256', pair, 'rsa-2'));
    await expect(pubOnly.onDecrypt(m, notMine.edks)).resolves.toBe(m);
    // The private half decrypts what the public-only keyring wrote.
    const d = await rsa('oaep-sha256').onDecrypt(decryptionMaterials(), edks);
    expect(hex(d.getDataKey())).toBe(hex(dataKey));
  });

  it('public-key-only as a MultiKeyring child: the decrypting sibling wins, no error', async () => {
    const aes = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'aes', wrappingKey: randomBytes(32) });
    const recovery = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa-1', padding: 'oaep-sha256', publicKey: pair.publicKey });
    const multi = new MultiKeyring({ generator: aes, children: [recovery] });
    const m = await multi.onEncrypt(encryptionMaterials());
    expect(m.encryptedDataKeys).toHaveLength(2);
    const d = await new MultiKeyring({ children: [recovery, aes] }).onDecrypt(decryptionMaterials(), m.encryptedDataKeys);
    expect(hex(d.getDataKey())).toBe(hex(m.getDataKey()));
  });

  it('private-key-only: decrypts; onEncrypt fails before touching the materials (no public key is derived)', async () => {
    const privOnly = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa-1', padding: 'oaep-sha256', privateKey: pair.privateKey });
    expect(privOnly.canEncrypt).toBe(false);
    const m = encryptionMaterials();
    const e = await expectCode(() => privOnly.onEncrypt(m), 'ENVELOPE_KEYRING_FAILURE');
    expect(e.causes[0]).toMatchObject({ key: 'ns/rsa-1', reason: 'no public key' });
    expect(m.hasDataKey).toBe(false);
    const { dataKey, edks } = await wrapped(rsa('oaep-sha256'));
    expect(hex((await privOnly.onDecrypt(decryptionMaterials(), edks)).getDataKey())).toBe(hex(dataKey));
  });
});

describe('RawRsaKeyring decrypt failures', () => {
  it('skips EDKs of another namespace or key name silently (exact name match, not prefix)', async () => {
    const { edks } = await wrapped(rsa('oaep-sha256'));
    for (const k of [rsa('oaep-sha256', pair, 'rsa-1', 'other'), rsa('oaep-sha256', pair, 'rsa'), rsa('oaep-sha256', pair, 'rsa-10')]) {
      const m = decryptionMaterials();
      await expect(k.onDecrypt(m, edks)).resolves.toBe(m);
      expect(m.hasDataKey).toBe(false);
    }
  });

  it('wrong private key → ENVELOPE_NO_DECRYPTABLE_KEY with one cause per own EDK', async () => {
    const { edks } = await wrapped(rsa('oaep-sha256'));
    const wrong = rsa('oaep-sha256', other);
    const e = await expectCode(() => wrong.onDecrypt(decryptionMaterials(), [...edks, ...edks]), 'ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes).toHaveLength(2);
    expect(e.causes[0]).toMatchObject({ key: 'ns/rsa-1', reason: 'RSA decryption failed' });
  });

  it('wrong OAEP hash → coded failure', async () => {
    const { edks } = await wrapped(rsa('oaep-sha256'));
    await expectCode(() => rsa('oaep-sha1').onDecrypt(decryptionMaterials(), edks), 'ENVELOPE_NO_DECRYPTABLE_KEY');
  });

  it('a data key of the wrong length for the suite is a cause, not a materials error', async () => {
    const k = rsa('oaep-sha256');
    const { edks } = await wrapped(k, 16);
    const e = await expectCode(() => k.onDecrypt(decryptionMaterials(32), edks), 'ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes).toEqual([{ key: 'ns/rsa-1', reason: 'RSA decryption failed' }]);
  });

  it('15.i4: a bad ciphertext and a key of the wrong length fail alike: one reason, no OpenSSL error', async () => {
    const k = rsa('oaep-sha256');
    const edk = (ciphertext: Uint8Array) => [{ providerId: 'ns', providerInfo: Buffer.from('rsa-1'), ciphertext }];
    const oaep = { key: pair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
    const failures = await Promise.all(
      [
        randomBytes(256), // not OAEP at all: the padding check fails
        publicEncrypt(oaep, randomBytes(20)), // decrypts, to 20 bytes
        publicEncrypt(oaep, randomBytes(0)), // decrypts, to nothing
        publicEncrypt({ ...oaep, oaepHash: 'sha1' }, randomBytes(32)), // another hash: the padding check fails
      ].map((c) => expectCode(() => k.onDecrypt(decryptionMaterials(32), edk(c)), 'ENVELOPE_NO_DECRYPTABLE_KEY')),
    );
    for (const e of failures) {
      expect(e.causes).toEqual([{ key: 'ns/rsa-1', reason: 'RSA decryption failed' }]);
      expect(e.message).toBe(failures[0]!.message);
      expect(e.cause).toBeUndefined();
    }
  });

  it('uses the first own EDK that decrypts, after ones that fail', async () => {
    const k = rsa('oaep-sha512');
    const { edks: bad } = await wrapped(rsa('oaep-sha512', other));
    const { dataKey, edks: good } = await wrapped(k);
    const d = await k.onDecrypt(decryptionMaterials(), [...bad, ...good]);
    expect(hex(d.getDataKey())).toBe(hex(dataKey));
  });

  it('returns materials that already have a data key unchanged', async () => {
    const { edks } = await wrapped(rsa('oaep-sha256', other));
    const m = decryptionMaterials();
    const existing = randomBytes(32);
    m.setDataKey(existing);
    await expect(rsa('oaep-sha256').onDecrypt(m, edks)).resolves.toBe(m);
    expect(hex(m.getDataKey())).toBe(hex(existing));
  });

  it('decrypts a ciphertext made directly with node:crypto (the wire form is plain RSA-OAEP)', async () => {
    const dataKey = randomBytes(32);
    const ciphertext = publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha384' }, dataKey);
    const d = await rsa('oaep-sha384').onDecrypt(decryptionMaterials(), [
      { providerId: 'ns', providerInfo: Buffer.from('rsa-1'), ciphertext },
    ]);
    expect(hex(d.getDataKey())).toBe(hex(dataKey));
  });
});

describe('RawRsaKeyring wipes the data-key buffers it creates', () => {
  it('on encrypt and on decrypt', async () => {
    const k = rsa('oaep-sha256');
    const m = encryptionMaterials();
    const set = vi.spyOn(m, 'setDataKey');
    const get = vi.spyOn(m, 'getDataKey');
    await k.onEncrypt(m);
    expect(isZero(set.mock.calls[0]![0])).toBe(true);
    expect(isZero(get.mock.results[0]!.value as Uint8Array)).toBe(true);
    get.mockRestore();
    const d = decryptionMaterials();
    const dset = vi.spyOn(d, 'setDataKey');
    await k.onDecrypt(d, m.encryptedDataKeys);
    expect(isZero(dset.mock.calls[0]![0])).toBe(true);
    expect(hex(d.getDataKey())).toBe(hex(m.getDataKey()));
  });
});

describe('RawRsaKeyring input validation', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const good = { keyNamespace: 'ns', keyName: 'rsa-1', padding: 'oaep-sha256', publicKey: pair.publicKey, privateKey: pair.privateKey };
  const cases: [string, unknown, RegExp][] = [
    ['missing options', null, /^options:/],
    ['reserved namespace', { ...good, keyNamespace: 'aws-kms' }, /^keyNamespace:/],
    ['empty name', { ...good, keyName: '' }, /^keyName:/],
    [
      'unknown padding',
      { ...good, padding: 'oaep-md5' },
      /^padding: expected one of pkcs1, oaep-sha1, oaep-sha256, oaep-sha384, oaep-sha512/,
    ],
    ['padding in node form', { ...good, padding: constants.RSA_PKCS1_OAEP_PADDING }, /^padding:/],
    ['no key at all', { ...good, publicKey: undefined, privateKey: undefined }, /^publicKey: give publicKey/],
    ['garbage public key', { ...good, publicKey: 'not a key' }, /^publicKey: not a valid RSA public key/],
    ['garbage private key bytes', { ...good, privateKey: Buffer.from('nope') }, /^privateKey: not a valid RSA private key/],
    ['a public key as the private key', { ...good, privateKey: pair.publicKey }, /^privateKey: not a valid RSA private key/],
    ['an EC key', { ...good, publicKey: ec.publicKey, privateKey: undefined }, /^publicKey: expected an RSA key, got ec/],
    ['a secret KeyObject', { ...good, privateKey: createSecretKey(randomBytes(32)) }, /^privateKey:/],
    ['mismatched key pair', { ...good, privateKey: other.privateKey }, /^publicKey: does not match privateKey/],
    [
      'a 1024-bit key with oaep-sha512',
      { ...good, padding: 'oaep-sha512', publicKey: small.publicKey, privateKey: undefined },
      /^publicKey: a 1024-bit RSA key is too small \(at least 2048 bits\)/,
    ],
    ['allowSmallKeyDecrypt not a boolean', { ...good, allowSmallKeyDecrypt: 'yes' }, /^allowSmallKeyDecrypt:/],
    ['pkcs1 with a private key, no opt-in', { ...good, padding: 'pkcs1' }, /^allowPkcs1Decrypt:/],
    ['pkcs1 with a private key, opt-in not exactly true', { ...good, padding: 'pkcs1', allowPkcs1Decrypt: 'yes' }, /^allowPkcs1Decrypt:/],
  ];
  for (const [name, options, message] of cases) {
    it(`rejects ${name} with ENVELOPE_INVALID_ARGUMENT naming the parameter`, async () => {
      const e = await expectCode(() => new RawRsaKeyring(options as never), 'ENVELOPE_INVALID_ARGUMENT');
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain('PRIVATE KEY');
    });
  }

  it('accepts every spec padding name', () => {
    expect(RSA_PADDINGS).toEqual(['pkcs1', 'oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512']);
    for (const padding of RSA_PADDINGS) expect(rsa(padding).padding).toBe(padding);
  });
});

describe('15.10: RSA keys under 2048 bits', () => {
  const bits = (n: number) => generateKeyPairSync('rsa', { modulusLength: n });
  const k512 = bits(512);
  const k640 = bits(640);
  const k1024 = bits(1024);
  const k2047 = bits(2047);

  it('15.10: refused for wrapping: 512-bit with pkcs1, 640- and 1024-bit with OAEP (as publicKey or privateKey)', async () => {
    for (const [pairOf, padding] of [
      [k512, 'pkcs1'],
      [k640, 'oaep-sha1'],
      [k640, 'oaep-sha256'],
      [k1024, 'oaep-sha256'],
      [k2047, 'oaep-sha256'],
    ] as const) {
      const n = pairOf.publicKey.asymmetricKeyDetails!.modulusLength!;
      const e = await expectCode(
        () => new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'old', padding, publicKey: pairOf.publicKey }),
        'ENVELOPE_INVALID_ARGUMENT',
      );
      expect(e.message).toBe(
        `publicKey: a ${n}-bit RSA key is too small (at least 2048 bits); to decrypt old messages with it, set allowSmallKeyDecrypt: true (it will not wrap new data keys)`,
      );
      await expectCode(
        () => new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'old', padding: 'oaep-sha256', privateKey: pairOf.privateKey }),
        'ENVELOPE_INVALID_ARGUMENT',
      );
    }
    expect(MIN_RSA_BITS).toBe(2048);
    expect(rsa('oaep-sha512').canEncrypt).toBe(true); // 2048 bits: fine
  });

  it('15.10: allowSmallKeyDecrypt unwraps old messages with a 1024-bit key, and still refuses to wrap under it', async () => {
    const legacy = new RawRsaKeyring({
      keyNamespace: 'ns',
      keyName: 'old',
      padding: 'oaep-sha256',
      publicKey: k1024.privateKey, // the config layer passes the private PEM as both
      privateKey: k1024.privateKey,
      allowSmallKeyDecrypt: true,
    });
    expect(legacy.canEncrypt).toBe(false);
    expect(legacy.canDecrypt).toBe(true);
    const dataKey = randomBytes(32);
    const ciphertext = publicEncrypt({ key: k1024.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, dataKey);
    const d = await legacy.onDecrypt(decryptionMaterials(), [{ providerId: 'ns', providerInfo: Buffer.from('old'), ciphertext }]);
    expect(hex(d.getDataKey())).toBe(hex(dataKey));
    const m = encryptionMaterials();
    const e = await expectCode(() => legacy.onEncrypt(m), 'ENVELOPE_KEYRING_FAILURE');
    expect(e.message).toMatch(/a 1024-bit key is too small to wrap data keys \(at least 2048 bits\)/);
    expect(m.hasDataKey).toBe(false); // refused before the materials changed
    expect(m.encryptedDataKeys).toHaveLength(0);
  });
});
