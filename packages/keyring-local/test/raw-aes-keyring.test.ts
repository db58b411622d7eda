import { describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { DecryptionMaterials, MultiKeyring, getSuite, type EncryptedDataKey } from '@envelope/core';
import { RawAesKeyring, serializeRawAesProviderInfo } from '@envelope/keyring-local';
import { CONTEXT, decryptionMaterials, encryptionMaterials, expectCode, hex, isZero } from './helpers.js';

function keyring(wrappingKey: Uint8Array, keyName = 'key-1', keyNamespace = 'ns'): RawAesKeyring {
  return new RawAesKeyring({ keyNamespace, keyName, wrappingKey });
}

async function wrapped(k: RawAesKeyring, keyLength: 16 | 24 | 32 = 32, context = CONTEXT) {
  const m = await k.onEncrypt(encryptionMaterials(keyLength, context));
  return { dataKey: m.getDataKey(), edks: m.encryptedDataKeys };
}

describe('RawAesKeyring round trip', () => {
  for (const wrappingLength of [16, 24, 32] as const) {
    for (const keyLength of [16, 24, 32] as const) {
      it(`AES-${wrappingLength * 8}-GCM wraps and unwraps a ${keyLength}-byte data key`, async () => {
        const k = keyring(randomBytes(wrappingLength));
        const { dataKey, edks } = await wrapped(k, keyLength);
        expect(dataKey.byteLength).toBe(keyLength);
        expect(edks).toHaveLength(1);
        const d = await k.onDecrypt(decryptionMaterials(keyLength), edks);
        expect(hex(d.getDataKey())).toBe(hex(dataKey));
      });
    }
  }

  it('wraps an existing data key instead of generating one, and adds one EDK per call', async () => {
    const k = keyring(randomBytes(32));
    const m = encryptionMaterials();
    const preset = randomBytes(32);
    m.setDataKey(preset);
    await k.onEncrypt(m);
    await k.onEncrypt(m);
    expect(hex(m.getDataKey())).toBe(hex(preset));
    expect(m.encryptedDataKeys).toHaveLength(2);
    // Fresh IV each time: the two EDKs differ.
    expect(hex(m.encryptedDataKeys[0]!.ciphertext)).not.toBe(hex(m.encryptedDataKeys[1]!.ciphertext));
    const d = await k.onDecrypt(decryptionMaterials(), [m.encryptedDataKeys[1]!]);
    expect(hex(d.getDataKey())).toBe(hex(preset));
  });

  it('works with an empty encryption context', async () => {
    const k = keyring(randomBytes(32));
    const { dataKey, edks } = await wrapped(k, 32, {});
    expect(hex((await k.onDecrypt(decryptionMaterials(32, {}), edks)).getDataKey())).toBe(hex(dataKey));
  });

  it('keeps its own copy of the wrapping key', async () => {
    const key = randomBytes(32);
    const k = keyring(key);
    const { edks } = await wrapped(k);
    key.fill(0xff); // the caller reuses or wipes its buffer
    const d = await k.onDecrypt(decryptionMaterials(), edks);
    expect(d.hasDataKey).toBe(true);
  });

  it('is created from base64 and interoperates with the same key given as bytes', async () => {
    const key = randomBytes(24);
    const { dataKey, edks } = await wrapped(
      RawAesKeyring.fromBase64({ keyNamespace: 'ns', keyName: 'key-1', wrappingKey: key.toString('base64') }),
    );
    const d = await keyring(key).onDecrypt(decryptionMaterials(), edks);
    expect(hex(d.getDataKey())).toBe(hex(dataKey));
    // Whitespace (e.g. a wrapped PEM-like line) is ignored.
    const spaced = key.toString('base64').replace(/(.{8})/g, '$1\n ');
    expect(RawAesKeyring.fromBase64({ keyNamespace: 'ns', keyName: 'key-1', wrappingKey: spaced }).keyName).toBe('key-1');
  });
});

describe('RawAesKeyring encryption-context binding', () => {
  it('does not unwrap under a different context, and says which key failed', async () => {
    const k = keyring(randomBytes(32));
    const { edks } = await wrapped(k, 32, { purpose: 'a' });
    for (const other of [{ purpose: 'b' }, {}, { purpose: 'a', extra: 'x' }] as Record<string, string>[]) {
      const m = decryptionMaterials(32, other);
      const e = await expectCode(() => k.onDecrypt(m, edks), 'ENVELOPE_NO_DECRYPTABLE_KEY');
      expect(e.causes).toHaveLength(1);
      expect(e.causes[0]).toMatchObject({ key: 'ns/key-1', reason: expect.stringContaining('authentication failed') });
      expect(m.hasDataKey).toBe(false);
    }
  });

  it('accepts the same context whatever order its keys were given in', async () => {
    const k = keyring(randomBytes(32));
    const { dataKey, edks } = await wrapped(k, 32, { b: '2', a: '1', B: '3' });
    const d = await k.onDecrypt(decryptionMaterials(32, { B: '3', a: '1', b: '2' }), edks);
    expect(hex(d.getDataKey())).toBe(hex(dataKey));
  });
});

describe('RawAesKeyring ownership of EDKs', () => {
  it('skips EDKs of another namespace or key name silently', async () => {
    const key = randomBytes(32);
    const { edks } = await wrapped(keyring(key, 'key-1', 'ns'));
    for (const other of [
      keyring(key, 'key-1', 'other-ns'),
      keyring(key, 'key-2', 'ns'),
      keyring(key, 'key', 'ns'),
      keyring(key, 'key-10', 'ns'),
    ]) {
      const m = decryptionMaterials();
      await expect(other.onDecrypt(m, edks)).resolves.toBe(m);
      expect(m.hasDataKey).toBe(false);
    }
  });

  it('skips EDKs whose provider info announces other tag or IV lengths', async () => {
    const k = keyring(randomBytes(32));
    const { edks } = await wrapped(k);
    const edk = edks[0]!;
    const iv = edk.providerInfo.subarray(-12);
    const variants: EncryptedDataKey[] = [
      { ...edk, providerInfo: serializeRawAesProviderInfo('key-1', iv, 96) },
      { ...edk, providerInfo: serializeRawAesProviderInfo('key-1', new Uint8Array(16)) },
      { ...edk, providerInfo: edk.providerInfo.subarray(0, 10) },
    ];
    const m = decryptionMaterials();
    await expect(k.onDecrypt(m, variants)).resolves.toBe(m);
    expect(m.hasDataKey).toBe(false);
  });

  it('fails with a coded error listing each of its own EDKs that did not unwrap (wrong key)', async () => {
    const { edks: a } = await wrapped(keyring(randomBytes(32)));
    const { edks: b } = await wrapped(keyring(randomBytes(32)));
    const wrong = keyring(randomBytes(32));
    const e = await expectCode(() => wrong.onDecrypt(decryptionMaterials(), [...a, ...b]), 'ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes.map((c) => c.key)).toEqual(['ns/key-1', 'ns/key-1']);
    expect(e.message).toContain('ns/key-1');
  });

  it('reports a malformed ciphertext of its own as a cause', async () => {
    const k = keyring(randomBytes(32));
    const { edks } = await wrapped(k);
    const truncated = { ...edks[0]!, ciphertext: edks[0]!.ciphertext.subarray(0, 15) };
    const e = await expectCode(() => k.onDecrypt(decryptionMaterials(), [truncated]), 'ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes[0]!.reason).toMatch(/malformed ciphertext: 15 bytes, expected 48/);
  });

  it('a wrapped key of another suite length is a cause, not a materials error', async () => {
    const k = keyring(randomBytes(32));
    const { edks } = await wrapped(k, 16);
    const e = await expectCode(() => k.onDecrypt(decryptionMaterials(32), edks), 'ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes[0]!.reason).toMatch(/malformed ciphertext/);
  });

  it('uses the first of its EDKs that unwraps, after ones that fail', async () => {
    const k = keyring(randomBytes(32));
    const { edks: bad } = await wrapped(keyring(randomBytes(32)));
    const { dataKey, edks: good } = await wrapped(k);
    const notMine = { providerId: 'aws-kms', providerInfo: Buffer.from('arn:aws:kms:...'), ciphertext: Buffer.alloc(40) };
    const d = await k.onDecrypt(decryptionMaterials(), [notMine, ...bad, ...good]);
    expect(hex(d.getDataKey())).toBe(hex(dataKey));
  });

  it('returns materials that already have a data key unchanged, without trying anything', async () => {
    const k = keyring(randomBytes(32));
    const { edks } = await wrapped(keyring(randomBytes(32))); // would fail if tried
    const m = decryptionMaterials();
    const existing = randomBytes(32);
    m.setDataKey(existing);
    await expect(k.onDecrypt(m, edks)).resolves.toBe(m);
    expect(hex(m.getDataKey())).toBe(hex(existing));
  });

  it('never puts key material in its errors', async () => {
    const key = randomBytes(32);
    const { edks, dataKey } = await wrapped(keyring(key));
    const e = await expectCode(() => keyring(randomBytes(32)).onDecrypt(decryptionMaterials(), edks), 'ENVELOPE_NO_DECRYPTABLE_KEY');
    const text = JSON.stringify({ m: e.message, c: e.causes.map((c) => c.reason) });
    for (const secret of [key, dataKey]) {
      expect(text).not.toContain(hex(secret));
      expect(text).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });
});

describe('RawAesKeyring in a MultiKeyring', () => {
  it('a child that is not the right key is skipped on decrypt; causes surface when all fail', async () => {
    const k1 = keyring(randomBytes(32), 'k1');
    const k2 = keyring(randomBytes(16), 'k2');
    const multi = new MultiKeyring({ generator: k1, children: [k2] });
    const m = await multi.onEncrypt(encryptionMaterials());
    expect(m.encryptedDataKeys.map((e) => Buffer.from(e.providerInfo.subarray(0, 2)).toString())).toEqual(['k1', 'k2']);
    // Only k2's EDK: k1 skips it silently, k2 unwraps.
    const d = await multi.onDecrypt(decryptionMaterials(), [m.encryptedDataKeys[1]!]);
    expect(hex(d.getDataKey())).toBe(hex(m.getDataKey()));
    // A different context: both fail, and both causes are listed.
    const e = await expectCode(
      () => multi.onDecrypt(decryptionMaterials(32, { other: 'ctx' }), m.encryptedDataKeys),
      'ENVELOPE_NO_DECRYPTABLE_KEY',
    );
    expect(e.causes.map((c) => c.key)).toEqual(['ns/k1', 'ns/k2']);
  });
});

describe('RawAesKeyring destroy()', () => {
  it('makes every later call fail with a coded error', async () => {
    const k = keyring(randomBytes(32));
    const { edks } = await wrapped(k);
    k.destroy();
    k.destroy(); // idempotent
    expect(k.destroyed).toBe(true);
    await expectCode(() => k.onEncrypt(encryptionMaterials()), 'ENVELOPE_KEYRING_FAILURE');
    const e = await expectCode(() => k.onDecrypt(decryptionMaterials(), edks), 'ENVELOPE_KEYRING_FAILURE');
    expect(e.causes[0]).toMatchObject({ key: 'ns/key-1', reason: 'keyring destroyed' });
  });
});

describe('RawAesKeyring wipes the data-key buffers it creates', () => {
  it('on encrypt: the generated key and the copy it wrapped', async () => {
    const k = keyring(randomBytes(32));
    const m = encryptionMaterials();
    const set = vi.spyOn(m, 'setDataKey');
    const get = vi.spyOn(m, 'getDataKey');
    await k.onEncrypt(m);
    expect(set).toHaveBeenCalledTimes(1);
    expect(get).toHaveBeenCalledTimes(1);
    expect(isZero(set.mock.calls[0]![0])).toBe(true); // the randomBytes temp
    expect(isZero(get.mock.results[0]!.value as Uint8Array)).toBe(true); // the copy it wrapped
    set.mockRestore();
    get.mockRestore();
    expect(isZero(m.getDataKey())).toBe(false); // the materials' own key is intact
  });

  it('on decrypt: the unwrapped key after handing it to the materials', async () => {
    const k = keyring(randomBytes(32));
    const { dataKey, edks } = await wrapped(k);
    const m = decryptionMaterials();
    const set = vi.spyOn(m, 'setDataKey');
    await k.onDecrypt(m, edks);
    expect(set).toHaveBeenCalledTimes(1);
    expect(isZero(set.mock.calls[0]![0])).toBe(true);
    expect(hex(m.getDataKey())).toBe(hex(dataKey));
  });
});

describe('RawAesKeyring honours AbortSignal', () => {
  it('does nothing once the signal fired', async () => {
    const k = keyring(randomBytes(32));
    const ac = new AbortController();
    ac.abort();
    const m = encryptionMaterials();
    await expectCode(() => k.onEncrypt(m, { signal: ac.signal }), 'ENVELOPE_ABORTED');
    expect(m.hasDataKey).toBe(false);
  });
});

describe('RawAesKeyring input validation', () => {
  const good = { keyNamespace: 'ns', keyName: 'key-1', wrappingKey: new Uint8Array(32) };
  const cases: [string, unknown, RegExp][] = [
    ['missing options', undefined, /^options:/],
    ['empty namespace', { ...good, keyNamespace: '' }, /^keyNamespace: expected a non-empty string/],
    ['non-string namespace', { ...good, keyNamespace: 42 }, /^keyNamespace:/],
    ['reserved namespace', { ...good, keyNamespace: 'aws-kms' }, /^keyNamespace: "aws-kms" is reserved/],
    ['namespace over 65535 bytes', { ...good, keyNamespace: 'é'.repeat(32768) }, /^keyNamespace: longer than 65535 UTF-8 bytes/],
    ['empty name', { ...good, keyName: '' }, /^keyName:/],
    ['name with a lone surrogate', { ...good, keyName: 'a\ud800' }, /^keyName: not well-formed/],
    ['15-byte key', { ...good, wrappingKey: new Uint8Array(15) }, /^wrappingKey: expected 16, 24 or 32 bytes .* got 15/],
    ['33-byte key', { ...good, wrappingKey: new Uint8Array(33) }, /^wrappingKey: .* got 33/],
    ['string key', { ...good, wrappingKey: 'a'.repeat(32) }, /^wrappingKey: expected a Uint8Array/],
  ];
  for (const [name, options, message] of cases) {
    it(`rejects ${name} with ENVELOPE_INVALID_ARGUMENT naming the parameter`, async () => {
      const e = await expectCode(() => new RawAesKeyring(options as never), 'ENVELOPE_INVALID_ARGUMENT');
      expect(e.message).toMatch(message);
    });
  }

  it('accepts a name of exactly 65535 UTF-8 bytes', () => {
    expect(new RawAesKeyring({ ...good, keyName: 'x'.repeat(65535) }).keyName).toHaveLength(65535);
  });

  it('fromBase64 rejects non-base64 and wrong lengths without echoing the input', async () => {
    for (const [wrappingKey, message] of [
      ['not base64!', /^wrappingKey: not valid base64$/],
      ['QUJD', /^wrappingKey: expected 16, 24 or 32 bytes/], // 3 bytes
      [Buffer.alloc(32, 1).toString('base64url'), /^wrappingKey: not valid base64$/],
      [Buffer.alloc(32, 1).toString('base64').slice(0, -1), /^wrappingKey: not valid base64$/],
      [42, /^wrappingKey: expected a base64 string/],
    ] as const) {
      const e = await expectCode(
        () => RawAesKeyring.fromBase64({ keyNamespace: 'ns', keyName: 'k', wrappingKey: wrappingKey as string }),
        'ENVELOPE_INVALID_ARGUMENT',
      );
      expect(e.message).toMatch(message);
      if (typeof wrappingKey === 'string') expect(e.message).not.toContain(wrappingKey);
    }
  });

  it('onDecrypt with no EDKs returns the materials unchanged', async () => {
    const m = new DecryptionMaterials({ suite: getSuite(0x0478), encryptionContext: {} });
    await expect(keyring(randomBytes(32)).onDecrypt(m, [])).resolves.toBe(m);
  });
});
