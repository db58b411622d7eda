/**
 * Zeroization audit (issue #10): every path that holds a plaintext data key — keyrings, materials,
 * materials managers, the cache, buffer and stream encrypt/decrypt, rewrap, KMS keyrings over real
 * HTTP, config-built keyrings and the keyring-env plugin — wipes it, on success and on failure.
 *
 * How the buffers are captured, without changing production code:
 * - `node:crypto` is wrapped (vi.mock) for the modules under test. Each call records, tagged with
 *   the source file that made it: the key handed to createCipheriv/createDecipheriv by the frame
 *   codec and header authentication (the HKDF-derived message key); every HMAC output inside
 *   kdf.ts (HKDF's PRK and T(1)); the derived commit key compared by timingSafeEqual on decrypt;
 *   the raw AES keyring's decipher output (the unwrapped data key, or garbage from a failed tag);
 *   the raw RSA keyring's privateDecrypt output.
 * - The materials' prototype methods are wrapped: the buffer a keyring passes to `setDataKey` (its
 *   own copy, which it must wipe), the materials' private buffer behind it (via the internal
 *   `borrowDataKey` seam core already has for its tests), and every copy `getDataKey` hands out.
 * - KMS: a middleware on the real @aws-sdk/client-kms client records each response's `Plaintext`
 *   (GenerateDataKey, Decrypt) from kms-local over HTTP.
 * - Config and keyring-env: the decoded wrapping-key temporaries (Buffer.from(base64) and key-file
 *   reads in those packages) and what they hand to RawAesKeyring.
 *
 * Each test resets the log, runs one path, and asserts every captured buffer is all zeros, and
 * that the kinds it expects were captured at all (so no test passes on an empty log). Failure
 * messages name the kind, the source file and the length of a live buffer, never its bytes.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateKeyPairSync, randomBytes, publicEncrypt, constants } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  CreateKeyCommand,
  KMSClient,
  ReplicateKeyCommand,
} from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  DecryptionMaterials,
  DefaultMaterialsManager,
  EncryptionMaterials,
  EnvelopeError,
  MultiKeyring,
  RequiredEncryptionContextMaterialsManager,
  SUITES,
  decrypt,
  decryptStream,
  decryptWebStream,
  encrypt,
  encryptStream,
  encryptWebStream,
  getSuite,
  parseHeader,
  rewrap,
  rewrapStream,
  type EncryptedDataKey,
  type Keyring,
  type MaterialsManager,
} from '@envelope/core';
import { RawAesKeyring, RawRsaKeyring } from '@envelope/keyring-local';
import { CachingMaterialsManager, LruMaterialsCache } from '@envelope/caching';
import {
  KmsDiscoveryKeyring,
  KmsKeyring,
  decryptDataKey,
  fromSdkClient,
  kmsOperations,
  type KmsClient,
  type KmsClientSupplier,
} from '@envelope/keyring-kms';
import { HealthRegistry, MultiRegionKeyring, type KmsOperations } from '@envelope/keyring-multi-region';
import { buildKeyring, buildMaterialsManager, callbackAuditSink, createRegistry, type AuditEvent } from '@envelope/config';
import envAesPlugin from '@envelope/keyring-env';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';
import { borrowDataKey } from '../packages/core/src/materials/materials.js';

// ------------------------------------------------------------------------------------- capture

type Kind =
  /** The buffer a keyring (or copier) passes to setDataKey: its own copy, which it must wipe. */
  | 'setDataKey-arg'
  /** The materials' private data-key buffer. */
  | 'materials-own'
  /** A copy handed out by getDataKey. */
  | 'dek-copy'
  /** The HKDF-derived message key (cipher key of the frames and the header tag). */
  | 'derived-key'
  /** HKDF internals: the PRK and T(1). */
  | 'hkdf-internal'
  /** The commit key derived on decrypt, compared with the header's. */
  | 'commit-key'
  /** Raw AES keyring: decipher output (the unwrapped data key, or garbage from a failed tag). */
  | 'aes-unwrap'
  /** Raw RSA keyring: privateDecrypt output. */
  | 'rsa-unwrap'
  /** @aws-sdk/client-kms response Plaintext (GenerateDataKey, Decrypt). */
  | 'kms-sdk-plaintext'
  /** The plaintext a KmsOperations implementation returns to the multi-region keyring. */
  | 'kms-op-plaintext'
  /** A wrapping-key temporary decoded by config or keyring-env. */
  | 'wrapping-key-temp';

const cap = vi.hoisted(() => {
  const log: { kind: string; buf: Uint8Array; origin: string }[] = [];
  const state = { on: true };
  /** `package/path` of the first stack frame inside packages/*\/src: who made this call. */
  function origin(): string {
    for (const line of (new Error().stack ?? '').split('\n')) {
      const m = /packages\/([a-z-]+)\/src\/([\w/.-]+?)\.[jt]s\b/.exec(line);
      if (m) return `${m[1]}/${m[2]}`;
    }
    return '';
  }
  function record(kind: string, buf: unknown, o: string = origin()): void {
    if (state.on && buf instanceof Uint8Array && buf.byteLength > 0) log.push({ kind, buf, origin: o });
  }
  return { log, state, origin, record };
});

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const derivedSite = (o: string): boolean => o === 'core/format/frame' || o === 'core/format/header-auth';
  type Update = (...a: unknown[]) => Buffer;
  const createCipheriv = (...a: Parameters<typeof real.createCipheriv>) => {
    const o = cap.origin();
    if (derivedSite(o)) cap.record('derived-key', a[1], o);
    return real.createCipheriv(...a);
  };
  const createDecipheriv = (...a: Parameters<typeof real.createDecipheriv>) => {
    const o = cap.origin();
    if (derivedSite(o)) cap.record('derived-key', a[1], o);
    const d = real.createDecipheriv(...a);
    if (o === 'keyring-local/raw-aes-keyring') {
      const update = (d.update as Update).bind(d);
      (d as unknown as { update: Update }).update = (...u: unknown[]) => {
        const out = update(...u);
        cap.record('aes-unwrap', out, o);
        return out;
      };
    }
    return d;
  };
  const createHmac = (...a: Parameters<typeof real.createHmac>) => {
    const h = real.createHmac(...a);
    const o = cap.origin();
    if (o === 'core/crypto/kdf') {
      const digest = (h.digest as () => Buffer).bind(h);
      (h as unknown as { digest: () => Buffer }).digest = () => {
        const out = digest();
        cap.record('hkdf-internal', out, o);
        return out;
      };
    }
    return h;
  };
  const timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    const o = cap.origin();
    if (o === 'core/crypto/kdf') cap.record('commit-key', a, o);
    return real.timingSafeEqual(a, b);
  };
  const privateDecrypt = (...a: Parameters<typeof real.privateDecrypt>) => {
    const out = real.privateDecrypt(...a);
    const o = cap.origin();
    if (o === 'keyring-local/raw-rsa-keyring') cap.record('rsa-unwrap', out, o);
    return out;
  };
  const wrapped = { createCipheriv, createDecipheriv, createHmac, timingSafeEqual, privateDecrypt };
  return { ...real, ...wrapped, default: { ...real, ...wrapped } };
});

// What config and keyring-env hand to RawAesKeyring (a subclass that records, then constructs).
vi.mock('@envelope/keyring-local', async (importOriginal) => {
  const real = await importOriginal<typeof import('@envelope/keyring-local')>();
  class RecordingRawAesKeyring extends real.RawAesKeyring {
    constructor(o: ConstructorParameters<typeof real.RawAesKeyring>[0]) {
      const from = cap.origin();
      if (from.startsWith('config/') || from.startsWith('keyring-env/')) cap.record('wrapping-key-temp', o?.wrappingKey, from);
      super(o);
    }
  }
  return { ...real, RawAesKeyring: RecordingRawAesKeyring };
});

// Key files read by config and keyring-env.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = (async (...a: Parameters<typeof real.readFile>) => {
    const o = cap.origin();
    const out = await real.readFile(...a);
    if (o.startsWith('config/') || o.startsWith('keyring-env/')) cap.record('wrapping-key-temp', out, o);
    return out;
  }) as typeof real.readFile;
  // config's key files are read from the descriptor they were checked on (finding 15.9).
  const open = (async (...a: Parameters<typeof real.open>) => {
    const o = cap.origin();
    const fh = await real.open(...a);
    if (!o.startsWith('config/')) return fh;
    const read = fh.readFile.bind(fh) as (...r: unknown[]) => Promise<Buffer | string>;
    (fh as unknown as { readFile: typeof read }).readFile = async (...r: unknown[]) => {
      const out = await read(...r);
      cap.record('wrapping-key-temp', out, o);
      return out;
    };
    return fh;
  }) as typeof real.open;
  return { ...real, readFile, open, default: { ...real, readFile, open } };
});

const holder = Object.getPrototypeOf(EncryptionMaterials.prototype) as {
  setDataKey(this: EncryptionMaterials | DecryptionMaterials, key: Uint8Array): unknown;
  getDataKey(this: EncryptionMaterials | DecryptionMaterials): Uint8Array;
};
const realSetDataKey = holder.setDataKey;
const realGetDataKey = holder.getDataKey;

beforeAll(() => {
  holder.setDataKey = function (key) {
    cap.record('setDataKey-arg', key);
    const r = realSetDataKey.call(this, key);
    cap.record('materials-own', borrowDataKey(this));
    return r;
  };
  holder.getDataKey = function () {
    const copy = realGetDataKey.call(this);
    cap.record('dek-copy', copy);
    return copy;
  };
});
afterAll(() => {
  holder.setDataKey = realSetDataKey;
  holder.getDataKey = realGetDataKey;
});
beforeEach(() => {
  cap.log.length = 0;
  cap.state.on = true;
});

const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

/** Every captured buffer once (first kind wins), optionally of some kinds. */
function captured(...kinds: Kind[]): { kind: string; buf: Uint8Array; origin: string }[] {
  const seen = new Set<Uint8Array>();
  const out = [];
  for (const c of cap.log) {
    if (seen.has(c.buf)) continue;
    seen.add(c.buf);
    if (kinds.length === 0 || kinds.includes(c.kind as Kind)) out.push(c);
  }
  return out;
}

const describeLive = (cs: { kind: string; buf: Uint8Array; origin: string }[]): string[] =>
  cs.filter((c) => !isZero(c.buf)).map((c) => `${c.kind} from ${c.origin || '?'} (${c.buf.byteLength} bytes)`);

/**
 * Asserts that at least `atLeast[kind]` buffers of each kind were captured, and that every
 * captured buffer (but those `keep` selects) is all zeros.
 */
function expectAllWiped(
  atLeast: Partial<Record<Kind, number>>,
  keep?: (c: { kind: string; buf: Uint8Array; origin: string }) => boolean,
): void {
  const all = captured();
  for (const [kind, n] of Object.entries(atLeast)) {
    // Distinct buffers seen as this kind (one buffer may be several: an unwrap output is also the setDataKey argument).
    const distinct = new Set(cap.log.filter((c) => c.kind === kind).map((c) => c.buf)).size;
    expect(distinct, `buffers of kind ${kind} captured`).toBeGreaterThanOrEqual(n!);
  }
  expect(describeLive(all.filter((c) => !keep?.(c))), 'live key material after use').toEqual([]);
}

/** Lets late callbacks (timers, socket reads) run. */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(10);
  }
  await sleep(20);
}

// ------------------------------------------------------------------------------------ fixtures

const aes = new RawAesKeyring({ keyNamespace: 'zero', keyName: 'aes', wrappingKey: randomBytes(32) });
const otherAes = new RawAesKeyring({ keyNamespace: 'zero', keyName: 'aes', wrappingKey: randomBytes(32) });
const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa = new RawRsaKeyring({
  keyNamespace: 'zero',
  keyName: 'rsa',
  publicKey: rsaPair.publicKey,
  privateKey: rsaPair.privateKey,
  padding: 'oaep-sha256',
});
const otherRsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const wrongRsa = new RawRsaKeyring({
  keyNamespace: 'zero',
  keyName: 'rsa',
  publicKey: otherRsaPair.publicKey,
  privateKey: otherRsaPair.privateKey,
  padding: 'oaep-sha256',
});

const boom = (): EnvelopeError =>
  new EnvelopeError('ENVELOPE_KEYRING_FAILURE', 'injected keyring failure', { causes: [{ key: 'failing', reason: 'injected' }] });
/** Fails every call, after doing nothing. */
const failing: Keyring = {
  onEncrypt: async () => {
    throw boom();
  },
  onDecrypt: async () => {
    throw boom();
  },
};
/** Does the inner keyring's work (so a data key is set), then fails: a keyring error mid-way. */
const failsAfter = (inner: Keyring): Keyring => ({
  onEncrypt: async (m, o) => {
    await inner.onEncrypt(m, o);
    throw boom();
  },
  onDecrypt: async (m, e, o) => {
    await inner.onDecrypt(m, e, o);
    throw boom();
  },
});
/** The inner keyring after a delay, ignoring any signal (a keyring that cannot be cancelled). */
const slow = (inner: Keyring, ms: number): Keyring => ({
  onEncrypt: async (m) => {
    await sleep(ms);
    return inner.onEncrypt(m);
  },
  onDecrypt: async (m, e) => {
    await sleep(ms);
    return inner.onDecrypt(m, e);
  },
});

const pt = Buffer.from('zeroization audit: the plaintext of the message');
const big = Buffer.alloc(50_000, 0x5a);
const ALLOW = 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' as const;
const policyFor = (suite: number) =>
  getSuite(suite).commitment ? ('REQUIRE_ENCRYPT_REQUIRE_DECRYPT' as const) : ('FORBID_ENCRYPT_ALLOW_DECRYPT' as const);

function sink(out: Buffer[] = []): Writable {
  return new Writable({
    write(c: Buffer, _e, cb) {
      out.push(c);
      cb();
    },
  });
}
async function throughNode(input: Uint8Array[], t: Transform): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(input), t, sink(out));
  return Buffer.concat(out);
}
function chunks(b: Uint8Array, n: number): Uint8Array[] {
  const out = [];
  for (let i = 0; i < b.byteLength; i += n) out.push(b.subarray(i, i + n));
  return out;
}
function webSource(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
}
async function collectWeb(s: ReadableStream<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const p of s as unknown as AsyncIterable<Uint8Array>) out.push(p);
  return Buffer.concat(out);
}
/** Encrypts without capturing (the setup of a decrypt test), then clears the log. */
async function quietEncrypt(plaintext: Uint8Array, o: Parameters<typeof encrypt>[1]): Promise<Uint8Array> {
  cap.state.on = false;
  try {
    return (await encrypt(plaintext, o)).ciphertext;
  } finally {
    cap.state.on = true;
  }
}

// ----------------------------------------------------------------------------------- materials

describe('materials', () => {
  it('own a private copy; copies are the caller’s to wipe; zeroize wipes the private buffer', () => {
    const suite = getSuite(0x0478);
    const m = new EncryptionMaterials({ suite, encryptionContext: {} });
    const mine = randomBytes(32);
    m.setDataKey(mine);
    const own = captured('materials-own')[0]!.buf;
    expect(own).not.toBe(mine);
    expect(isZero(own)).toBe(false);
    const copy = m.getDataKey();
    expect(copy).not.toBe(own);
    copy.fill(0); // the caller's duty, as every keyring does
    mine.fill(0);
    expect(isZero(own)).toBe(false); // wiping a copy does not touch the materials
    m.zeroize();
    expect(() => m.getDataKey()).toThrow(/zeroized/);
    const late = randomBytes(32);
    expect(() => m.setDataKey(late)).toThrow(/zeroized/);
    late.fill(0); // refused: still the caller's to wipe
    expectAllWiped({ 'materials-own': 1, 'dek-copy': 1, 'setDataKey-arg': 1 });
    const d = new DecryptionMaterials({ suite, encryptionContext: {} });
    const k = randomBytes(32);
    d.setDataKey(k);
    k.fill(0);
    d.zeroize();
    d.zeroize(); // idempotent
    expectAllWiped({ 'materials-own': 2 });
  });
});

// -------------------------------------------------------------------------------- raw keyrings

describe('raw AES and RSA keyrings', () => {
  for (const [name, keyring] of [
    ['RawAesKeyring', aes],
    ['RawRsaKeyring', rsa],
  ] as const) {
    for (const suite of [0x0014, 0x0178, 0x0478, 0x0578]) {
      it(`${name}, suite ${suite.toString(16).padStart(4, '0')}: wrap and unwrap through encrypt/decrypt`, async () => {
        const { ciphertext } = await encrypt(pt, {
          keyring,
          suite,
          commitmentPolicy: policyFor(suite),
          encryptionContext: { tenant: 'a' },
        });
        const { plaintext } = await decrypt(ciphertext, { keyring, commitmentPolicy: ALLOW });
        expect(Buffer.from(plaintext).equals(pt)).toBe(true);
        const unwrap = name === 'RawAesKeyring' ? 'aes-unwrap' : 'rsa-unwrap';
        expectAllWiped({
          'setDataKey-arg': 2,
          'materials-own': 2,
          'dek-copy': 1,
          'derived-key': 2,
          [unwrap]: 1,
          ...(getSuite(suite).commitment ? { 'commit-key': 1 } : {}),
        });
      });
    }
  }

  it('direct keyring calls: onEncrypt then onDecrypt, then the materials are zeroized', async () => {
    const suite = getSuite(0x0478);
    for (const keyring of [aes, rsa]) {
      const em = await keyring.onEncrypt(new EncryptionMaterials({ suite, encryptionContext: { a: 'b' } }));
      const dm = await keyring.onDecrypt(new DecryptionMaterials({ suite, encryptionContext: { a: 'b' } }), em.encryptedDataKeys);
      expect(dm.hasDataKey).toBe(true);
      em.zeroize();
      dm.zeroize();
    }
    expectAllWiped({ 'setDataKey-arg': 4, 'materials-own': 4, 'aes-unwrap': 1, 'rsa-unwrap': 1 });
  });

  it('AES: a wrong context or key fails every tag; the garbage each failed attempt decrypted is wiped', async () => {
    const suite = getSuite(0x0478);
    // 'B' sorts before 'a' by UTF-8 bytes (the spec) but after it by localeCompare (the legacy JS
    // SDK order), so each attempt tries two AADs.
    const em = await aes.onEncrypt(new EncryptionMaterials({ suite, encryptionContext: { a: 'b', B: 'x' } }));
    const edks = em.encryptedDataKeys;
    em.zeroize();
    cap.log.length = 0;
    await expect(aes.onDecrypt(new DecryptionMaterials({ suite, encryptionContext: { a: 'c', B: 'x' } }), edks)).rejects.toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
    });
    await expect(otherAes.onDecrypt(new DecryptionMaterials({ suite, encryptionContext: { a: 'b', B: 'x' } }), edks)).rejects.toMatchObject(
      { code: 'ENVELOPE_NO_DECRYPTABLE_KEY' },
    );
    // Two AAD orders per attempt (the spec's and the legacy JS SDK's differ for this context).
    expectAllWiped({ 'aes-unwrap': 4 });
    expect(captured('materials-own')).toEqual([]);
  });

  it('RSA: an unwrapped key of the wrong length is wiped before it reaches the materials', async () => {
    const suite = getSuite(0x0478);
    const short = randomBytes(16);
    const edk: EncryptedDataKey = {
      providerId: 'zero',
      providerInfo: Buffer.from('rsa'),
      ciphertext: publicEncrypt({ key: rsaPair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, short),
    };
    short.fill(0);
    await expect(rsa.onDecrypt(new DecryptionMaterials({ suite, encryptionContext: {} }), [edk])).rejects.toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
    });
    expectAllWiped({ 'rsa-unwrap': 1 });
    // A wrong private key: OAEP fails inside OpenSSL, nothing comes out.
    const { ciphertext } = await encrypt(pt, { keyring: rsa, suite: 0x0478 });
    cap.log.length = 0;
    await expect(decrypt(ciphertext, { keyring: wrongRsa })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    expect(captured('rsa-unwrap', 'materials-own')).toEqual([]);
  });
});

// -------------------------------------------------------------------------------- MultiKeyring

describe('MultiKeyring', () => {
  it('generator + children wrap one data key; any child unwraps it; every copy is wiped', async () => {
    const multi = new MultiKeyring({ generator: aes, children: [rsa] });
    const { ciphertext } = await encrypt(pt, { keyring: multi, suite: 0x0578 });
    await decrypt(ciphertext, { keyring: new MultiKeyring({ children: [failing, rsa] }) });
    expectAllWiped({ 'dek-copy': 2, 'materials-own': 2, 'rsa-unwrap': 1, 'derived-key': 2, 'commit-key': 1 });
  });

  it('a child failing after the generator made the data key: encrypt fails, the data key is wiped', async () => {
    await expect(encrypt(pt, { keyring: new MultiKeyring({ generator: aes, children: [rsa, failing] }) })).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
    });
    expectAllWiped({ 'materials-own': 1, 'dek-copy': 2 });
    expect(captured('derived-key')).toEqual([]);
  });

  it('decrypt: a keyring that set the data key and then threw — the materials are zeroized', async () => {
    const ciphertext = await quietEncrypt(pt, { keyring: aes });
    await expect(decrypt(ciphertext, { keyring: new MultiKeyring({ children: [failsAfter(aes)] }) })).rejects.toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
    });
    expectAllWiped({ 'materials-own': 1, 'aes-unwrap': 1 });
  });
});

// -------------------------------------------------------------------------- materials managers

describe('default and required-context materials managers', () => {
  it('default manager: a keyring that set the data key and then failed (encrypt and decrypt)', async () => {
    const dmm = new DefaultMaterialsManager(failsAfter(aes));
    await expect(encrypt(pt, { materialsManager: dmm })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    const ciphertext = await quietEncrypt(pt, { keyring: aes });
    await expect(decrypt(ciphertext, { materialsManager: dmm })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    expectAllWiped({ 'materials-own': 2, 'aes-unwrap': 1, 'dek-copy': 1 });
  });

  it('required-context manager: round trip, a wrong reproduced value, a missing one', async () => {
    const cmm = new RequiredEncryptionContextMaterialsManager({ underlying: aes, requiredEncryptionContextKeys: ['tenant'] });
    const { ciphertext } = await encrypt(pt, { materialsManager: cmm, encryptionContext: { tenant: 't1', app: 'x' } });
    await decrypt(ciphertext, { materialsManager: cmm, encryptionContext: { tenant: 't1' } });
    expectAllWiped({ 'materials-own': 2, 'derived-key': 2 });
    cap.log.length = 0;
    // A wrong value: raw AES binds the whole context (required pairs too), so its tag fails.
    await expect(decrypt(ciphertext, { materialsManager: cmm, encryptionContext: { tenant: 't2' } })).rejects.toMatchObject({
      code: 'ENVELOPE_NO_DECRYPTABLE_KEY',
    });
    await expect(decrypt(ciphertext, { materialsManager: cmm })).rejects.toMatchObject({ code: 'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH' });
    expectAllWiped({ 'aes-unwrap': 1 });
  });

  it('required-context manager: an underlying manager that drops the required keys gets its materials zeroized', async () => {
    const dmm = new DefaultMaterialsManager(aes);
    const dropping: MaterialsManager = {
      getEncryptionMaterials: (r) => dmm.getEncryptionMaterials({ ...r, requiredEncryptionContextKeys: [] }),
      decryptMaterials: async (r) => {
        const m = await dmm.decryptMaterials({ ...r, reproducedEncryptionContext: undefined });
        return m;
      },
    };
    const cmm = new RequiredEncryptionContextMaterialsManager({ underlying: dropping, requiredEncryptionContextKeys: ['tenant'] });
    await expect(encrypt(pt, { materialsManager: cmm, encryptionContext: { tenant: 't1' } })).rejects.toMatchObject({
      code: 'ENVELOPE_MATERIALS',
    });
    expectAllWiped({ 'materials-own': 1 });
    const ciphertext = await quietEncrypt(pt, { keyring: aes, encryptionContext: { app: 'x' } });
    await expect(decrypt(ciphertext, { materialsManager: cmm, encryptionContext: { tenant: 't1' } })).rejects.toMatchObject({
      code: 'ENVELOPE_MATERIALS',
    });
    expectAllWiped({ 'materials-own': 1, 'aes-unwrap': 1 });
  });
});

// ------------------------------------------------------------------------ buffer encrypt/decrypt

describe('buffer encrypt and decrypt', () => {
  it('every suite: round trip (framed v1/v2, signed and unsigned, identity KDF)', async () => {
    for (const suite of SUITES.values()) {
      cap.log.length = 0;
      const { ciphertext } = await encrypt(big, {
        keyring: aes,
        suite: suite.id,
        commitmentPolicy: policyFor(suite.id),
        frameLength: 4096,
      });
      const { plaintext } = await decrypt(ciphertext, { keyring: aes, commitmentPolicy: ALLOW });
      expect(Buffer.from(plaintext).equals(big)).toBe(true);
      expectAllWiped({ 'derived-key': 2, 'materials-own': 2, 'aes-unwrap': 1, ...(suite.kdfHash ? { 'hkdf-internal': 4 } : {}) });
    }
  });

  it('failures after the data key was unwrapped: bad frame tag, bad header tag, bad commit key, wrong context, truncation', async () => {
    const ciphertext = await quietEncrypt(big, { keyring: aes, suite: 0x0478, encryptionContext: { tenant: 'a' } });
    const h = parseHeader(ciphertext, { maxEncryptedDataKeys: 10, maxFrameLength: 1 << 20 });
    const flip = (at: number): Buffer => {
      const b = Buffer.from(ciphertext);
      b[at]! ^= 1;
      return b;
    };
    const cases: [string, Uint8Array, Record<string, string> | undefined, string][] = [
      ['frame tag', flip(ciphertext.byteLength - 5), undefined, 'ENVELOPE_AUTHENTICATION_FAILED'],
      ['middle frame', flip(h.length + 5000), undefined, 'ENVELOPE_AUTHENTICATION_FAILED'],
      ['header tag', flip(h.length - 1), undefined, 'ENVELOPE_AUTHENTICATION_FAILED'],
      ['commit key', flip(h.body.byteLength - 1), undefined, 'ENVELOPE_AUTHENTICATION_FAILED'],
      ['wrong context', ciphertext, { tenant: 'b' }, 'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH'],
      ['truncated', ciphertext.subarray(0, ciphertext.byteLength - 100), undefined, 'ENVELOPE_MALFORMED_MESSAGE'],
    ];
    for (const [what, msg, ec, code] of cases) {
      cap.log.length = 0;
      await expect(decrypt(msg, { keyring: aes, encryptionContext: ec }), what).rejects.toMatchObject({ code });
      // A conflicting caller context is refused before any keyring runs: nothing was unwrapped.
      if (what === 'wrong context') expect(captured()).toEqual([]);
      else
        expectAllWiped({
          'aes-unwrap': 1,
          'materials-own': 1,
          'hkdf-internal': 3,
          'commit-key': 1,
          ...(what === 'commit key' ? {} : { 'derived-key': 1 }),
        });
    }
  });
});

// -------------------------------------------------------------------------------- Node streams

describe('Node streams', () => {
  for (const suite of [0x0478, 0x0578]) {
    it(`suite ${suite.toString(16)}: encrypt and decrypt to the end`, async () => {
      const ct = await throughNode(chunks(big, 7000), encryptStream({ keyring: aes, suite, frameLength: 4096 }));
      const out = await throughNode(chunks(ct, 5000), decryptStream({ keyring: aes }));
      expect(out.equals(big)).toBe(true);
      expectAllWiped({ 'derived-key': 2, 'materials-own': 2, 'aes-unwrap': 1, 'commit-key': 1 });
    });
  }

  it('decrypt error mid-stream (a tampered frame) wipes the message key', async () => {
    const ct = Buffer.from(await quietEncrypt(big, { keyring: aes, suite: 0x0478, frameLength: 4096 }));
    ct[ct.byteLength - 30000]! ^= 1;
    await expect(throughNode(chunks(ct, 5000), decryptStream({ keyring: aes }))).rejects.toMatchObject({
      code: 'ENVELOPE_AUTHENTICATION_FAILED',
    });
    expectAllWiped({ 'derived-key': 1, 'materials-own': 1 });
  });

  it('decrypt and encrypt streams destroyed midway wipe the message key', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0578, frameLength: 1024 });
    const d = decryptStream({ keyring: aes, releaseUnverifiedPlaintext: true });
    let first = true;
    await expect(
      pipeline(
        Readable.from(chunks(ct, 2000)),
        d,
        new Writable({
          write(_c, _e, cb) {
            if (first) {
              first = false;
              expect(describeLive(captured('derived-key'))).toHaveLength(1); // live while the stream runs
              d.destroy(new Error('consumer gave up'));
            }
            cb();
          },
        }),
      ),
    ).rejects.toThrow(/consumer gave up/);
    expectAllWiped({ 'derived-key': 1, 'materials-own': 1 });

    cap.log.length = 0;
    const e = encryptStream({ keyring: aes, frameLength: 1024 });
    const src = new Readable({ read() {} });
    const done = pipeline(src, e, sink());
    src.push(big.subarray(0, 5000));
    await until(() => captured('derived-key').length > 0);
    e.destroy(new Error('producer gave up'));
    await expect(done).rejects.toThrow(/producer gave up/);
    expectAllWiped({ 'derived-key': 1, 'materials-own': 1 });
  });

  it('the caller’s AbortSignal midway (encrypt and decrypt)', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0478, frameLength: 1024 });
    const ac = new AbortController();
    const src = new Readable({ read() {} });
    const done = pipeline(src, decryptStream({ keyring: aes, signal: ac.signal }), sink());
    src.push(ct.subarray(0, 3000));
    await until(() => captured('derived-key').length > 0);
    ac.abort();
    await expect(done).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expectAllWiped({ 'derived-key': 1 });

    cap.log.length = 0;
    const ac2 = new AbortController();
    const src2 = new Readable({ read() {} });
    const done2 = pipeline(src2, encryptStream({ keyring: aes, signal: ac2.signal }), sink());
    src2.push(big.subarray(0, 3000));
    await until(() => captured('derived-key').length > 0);
    ac2.abort();
    await expect(done2).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expectAllWiped({ 'derived-key': 1 });
  });

  it('destroyed while the keyring is still working: the key it delivers late is wiped', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0478 });
    const d = decryptStream({ keyring: slow(aes, 60) });
    const done = pipeline(Readable.from([ct]), d, sink());
    await sleep(10);
    d.destroy(new Error('gone'));
    await expect(done).rejects.toThrow(/gone/);
    await sleep(120);
    expectAllWiped({ 'materials-own': 1, 'derived-key': 1 });

    cap.log.length = 0;
    const e = encryptStream({ keyring: slow(aes, 60) });
    const done2 = pipeline(Readable.from([big]), e, sink());
    await sleep(10);
    e.destroy(new Error('gone'));
    await expect(done2).rejects.toThrow(/gone/);
    await sleep(120);
    expectAllWiped({ 'materials-own': 1, 'derived-key': 1 });
  });
});

// --------------------------------------------------------------------------------- web streams

describe('web streams', () => {
  it('encrypt and decrypt to the end', async () => {
    const ct = await collectWeb(
      webSource(chunks(big, 7000)).pipeThrough(encryptWebStream({ keyring: aes, suite: 0x0578, frameLength: 4096 })),
    );
    const out = await collectWeb(webSource(chunks(ct, 3000)).pipeThrough(decryptWebStream({ keyring: aes })));
    expect(out.equals(big)).toBe(true);
    expectAllWiped({ 'derived-key': 2, 'materials-own': 2, 'commit-key': 1 });
  });

  it('decrypt error (a tampered frame)', async () => {
    const ct = Buffer.from(await quietEncrypt(big, { keyring: aes, suite: 0x0478, frameLength: 4096 }));
    ct[ct.byteLength - 20000]! ^= 1;
    await expect(collectWeb(webSource(chunks(ct, 3000)).pipeThrough(decryptWebStream({ keyring: aes })))).rejects.toMatchObject({
      code: 'ENVELOPE_AUTHENTICATION_FAILED',
    });
    expectAllWiped({ 'derived-key': 1 });
  });

  it('the consumer cancels midway, or the producer aborts (decrypt and encrypt)', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0478, frameLength: 1024 });
    // Consumer cancels after the first plaintext.
    const reader = webSource(chunks(ct, 2000))
      .pipeThrough(decryptWebStream({ keyring: aes }))
      .getReader();
    await reader.read();
    expect(describeLive(captured('derived-key'))).toHaveLength(1);
    await reader.cancel('enough');
    expectAllWiped({ 'derived-key': 1 });
    // Producer aborts its writer.
    for (const [make, input] of [
      [() => decryptWebStream({ keyring: aes }), ct.subarray(0, 3000)],
      [() => encryptWebStream({ keyring: aes, frameLength: 1024 }), big.subarray(0, 3000)],
    ] as const) {
      cap.log.length = 0;
      const t = make(); // an encrypt stream starts (gets its key) as soon as it is made
      const w = t.writable.getWriter();
      const r = t.readable.getReader();
      void w.write(input).catch(() => {});
      await r.read();
      await until(() => captured('derived-key').length > 0);
      // The consumer keeps reading (a pending write only completes once its output is taken).
      const drained = (async () => {
        try {
          while (!(await r.read()).done);
        } catch {
          // errored by the abort
        }
      })();
      await w.abort(new Error('producer gone'));
      await drained;
      expectAllWiped({ 'derived-key': 1 });
    }
  });

  it('an encrypt stream that fails in transform (plaintextLengthBound exceeded) wipes its key', async () => {
    const t = encryptWebStream({ keyring: aes, plaintextLengthBound: 100 });
    await expect(collectWeb(webSource([big.subarray(0, 50), big.subarray(0, 500)]).pipeThrough(t))).rejects.toMatchObject({
      code: 'ENVELOPE_LIMIT_EXCEEDED',
    });
    expectAllWiped({ 'derived-key': 1, 'materials-own': 1 });
  });

  it('a stalled source: the caller’s AbortSignal ends the stream and wipes the key (decrypt and encrypt)', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0478, frameLength: 1024 });
    for (const [make, first] of [
      [(signal: AbortSignal) => decryptWebStream({ keyring: aes, signal }), ct.subarray(0, 3000)],
      [(signal: AbortSignal) => encryptWebStream({ keyring: aes, signal }), big.subarray(0, 3000)],
    ] as const) {
      cap.log.length = 0;
      const ac = new AbortController();
      const stalled = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(first); // then nothing, ever
        },
      });
      const started = Date.now();
      const done = collectWeb(stalled.pipeThrough(make(ac.signal)));
      await until(() => captured('derived-key').length > 0);
      ac.abort(new Error('deadline'));
      const settled = await Promise.race([
        done.then(
          () => 'resolved',
          (e: unknown) => e,
        ),
        sleep(1500).then(() => 'still stalled'),
      ]);
      expect(settled).toMatchObject({ code: 'ENVELOPE_ABORTED' });
      expect(Date.now() - started).toBeLessThan(2000);
      expectAllWiped({ 'derived-key': 1 });
    }
  });
});

// --------------------------------------------------------------------------------------- rewrap

describe('rewrap', () => {
  it('header-only (unsigned): replace, add, remove — buffers and streams', async () => {
    const ct = await quietEncrypt(big, { keyring: new MultiKeyring({ generator: aes, children: [rsa] }), suite: 0x0478 });
    const r1 = await rewrap(ct, { from: aes, to: rsa, mode: 'replace' });
    const r2 = await rewrap(ct, { from: rsa, to: otherAes, mode: 'add' });
    const r3 = await rewrap(ct, {
      from: aes,
      mode: 'remove',
      remove: (e) => e.providerId === 'zero' && Buffer.from(e.providerInfo).toString() === 'rsa',
    });
    for (const r of [r1, r2, r3]) expect(r.method).toBe('header-only');
    const streamed = await throughNode(chunks(ct, 4000), rewrapStream({ from: aes, to: otherAes, mode: 'add' }));
    expect((await decrypt(streamed, { keyring: otherAes })).plaintext.byteLength).toBe(big.byteLength);
    expectAllWiped({ 'materials-own': 6, 'derived-key': 4, 'aes-unwrap': 3, 'rsa-unwrap': 1, 'dek-copy': 3 });
  });

  it('re-encrypt (signed): replace and add — buffers and streams', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0578 });
    const r1 = await rewrap(ct, { from: aes, to: rsa, mode: 'replace' });
    const r2 = await rewrap(ct, { from: aes, to: rsa, mode: 'add' });
    for (const r of [r1, r2]) expect(r.method).toBe('re-encrypted');
    const streamed = await throughNode(chunks(ct, 4000), rewrapStream({ from: aes, to: rsa }));
    expect((await decrypt(streamed, { keyring: rsa })).plaintext.byteLength).toBe(big.byteLength);
    expectAllWiped({ 'materials-own': 7, 'derived-key': 7, 'aes-unwrap': 3, 'rsa-unwrap': 1 });
  });

  it('failures: a "to" keyring failing mid-way, a refused remove, a "from" that cannot decrypt', async () => {
    const unsigned = await quietEncrypt(pt, { keyring: aes, suite: 0x0478 });
    const signed = await quietEncrypt(pt, { keyring: aes, suite: 0x0578 });
    for (const msg of [unsigned, signed]) {
      await expect(rewrap(msg, { from: aes, to: [rsa, failing] })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    }
    await expect(rewrap(unsigned, { from: aes, mode: 'remove', remove: () => false, keep: rsa })).rejects.toMatchObject({
      code: 'ENVELOPE_REWRAP_REFUSED',
    });
    // remove on a signed message: refused after the old message was decrypted (its key wiped).
    await expect(rewrap(signed, { from: aes, mode: 'remove', remove: () => true })).rejects.toMatchObject({
      code: 'ENVELOPE_REWRAP_REFUSED',
    });
    await expect(rewrap(unsigned, { from: otherAes, to: rsa })).rejects.toMatchObject({ code: 'ENVELOPE_NO_DECRYPTABLE_KEY' });
    await expect(throughNode([unsigned], rewrapStream({ from: aes, to: [rsa, failing] }))).rejects.toMatchObject({
      code: 'ENVELOPE_KEYRING_FAILURE',
    });
    expectAllWiped({ 'materials-own': 6, 'aes-unwrap': 6, 'dek-copy': 3, 'derived-key': 2 });
  });
});

// --------------------------------------------------------------------------------------- caching

describe('CachingMaterialsManager', () => {
  it('hits hand out copies that encrypt/decrypt wipe; the cache keeps its own until eviction, then it is zeroed', async () => {
    const cache = new LruMaterialsCache({ capacity: 1 });
    const cmm = new CachingMaterialsManager({ underlying: aes, cache, maxAgeMs: 60_000 });
    const cts = [];
    for (let i = 0; i < 3; i++)
      cts.push((await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { t: '1' } })).ciphertext);
    for (const c of cts) await decrypt(c, { materialsManager: cmm });
    expect(cmm.metrics()).toMatchObject({ hits: 4, keyringCalls: 2 });
    // The decrypt entry pushed the encrypt entry out (capacity 1): that one is zeroed already.
    const owners = captured('materials-own');
    const live = owners.filter((c) => !isZero(c.buf));
    expect(live).toHaveLength(1); // the cached decryption materials, still serving
    expectAllWiped({ 'materials-own': 8, 'derived-key': 6 }, (c) => c.buf === live[0]!.buf);
    cache.clear();
    expectAllWiped({ 'materials-own': 8 });
  });

  it('expiry (timer and on access) and exhaustion zero the cached key', async () => {
    const cmm = new CachingMaterialsManager({ underlying: aes, maxAgeMs: 40, maxMessagesEncrypted: 2 });
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { e: '1' } });
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { e: '1' } }); // last use: dropped now
    expectAllWiped({ 'materials-own': 3 });
    cap.log.length = 0;
    await encrypt(pt, { materialsManager: cmm, suite: 0x0478, encryptionContext: { e: '2' } });
    expect(describeLive(captured('materials-own'))).toHaveLength(1);
    await sleep(80); // the unref'd expiry timer
    expectAllWiped({ 'materials-own': 2 });
    expect(cmm.metrics()).toMatchObject({ expirations: 1, exhaustions: 1 });
  });

  it('a failing underlying call and an abandoned miss keep nothing', async () => {
    const cmm = new CachingMaterialsManager({ underlying: failsAfter(aes), maxAgeMs: 60_000 });
    await expect(encrypt(pt, { materialsManager: cmm, suite: 0x0478 })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    expectAllWiped({ 'materials-own': 1 });
    cap.log.length = 0;
    const lazy = new CachingMaterialsManager({ underlying: slow(aes, 30), maxAgeMs: 60_000 });
    const ac = new AbortController();
    const p = encrypt(pt, { materialsManager: lazy, suite: 0x0478, signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    await sleep(60); // the keyring (which ignores the signal) finishes; the result is cached…
    const kept = captured('materials-own');
    (lazy.cache as LruMaterialsCache).clear(); // …until it leaves the cache
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expectAllWiped({ 'materials-own': 1 });
  });
});

// ------------------------------------------------------------------------- KMS over real HTTP

describe('KMS keyrings against kms-local (real HTTP, real @aws-sdk/client-kms)', () => {
  const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
  let kms: KmsLocal;
  const sdks: KMSClient[] = [];
  const keys: Record<string, string> = {};
  let mrk: string[];

  beforeAll(async () => {
    kms = await startKmsLocal({ regions: REGIONS, port: 0 });
    const admin = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: { ...kms.credentials } });
    sdks.push(admin);
    for (const r of REGIONS) {
      const c = new KMSClient({ region: r, endpoint: kms.url, credentials: { ...kms.credentials } });
      sdks.push(c);
      keys[r] = (await c.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    }
    const primary = (await admin.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.Arn!;
    mrk = [primary];
    for (const r of REGIONS.slice(1))
      mrk.push((await admin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: r }))).ReplicaKeyMetadata!.Arn!);
  });
  afterAll(async () => {
    for (const c of sdks) c.destroy();
    await kms?.close();
  });
  afterEach(() => kms.reset());

  /**
   * A client supplier over real SDK clients with a middleware that records every response's
   * Plaintext. `ignoreSignal`: the calls do not pass the caller's signal to the SDK, so a slow
   * answer arrives after the keyring gave up on it (as one already in flight may).
   */
  function capturingSupplier(o: { ignoreSignal?: boolean } = {}): KmsClientSupplier {
    const clients = new Map<string, KmsClient>();
    return (region) => {
      let c = clients.get(region);
      if (!c) {
        const sdk = new KMSClient({
          region,
          endpoint: kms.url,
          credentials: { ...kms.credentials },
          maxAttempts: 1,
          requestHandler: new NodeHttpHandler({ requestTimeout: 5000, connectionTimeout: 1000, throwOnRequestTimeout: true }),
        });
        sdk.middlewareStack.add(
          (next) => async (args) => {
            const r = await next(args);
            cap.record('kms-sdk-plaintext', (r.output as { Plaintext?: unknown }).Plaintext, 'aws-sdk');
            return r;
          },
          { step: 'initialize', name: 'zeroizationCapture' },
        );
        sdks.push(sdk);
        c = o.ignoreSignal
          ? {
              generateDataKey: (input) => sdk.send(new GenerateDataKeyCommand(input)),
              encrypt: (input) => sdk.send(new EncryptCommand(input)),
              decrypt: (input) => sdk.send(new DecryptCommand(input)),
            }
          : fromSdkClient(sdk);
        clients.set(region, c);
      }
      return c;
    };
  }

  it('KmsKeyring: GenerateDataKey + Encrypt in two more regions; Decrypt; every SDK Plaintext and copy wiped', async () => {
    const keyring = new KmsKeyring({
      clientSupplier: capturingSupplier(),
      generatorKeyId: keys['us-east-1'],
      keyIds: [keys['us-west-2']!, keys['eu-west-1']!],
    });
    const { ciphertext } = await encrypt(pt, { keyring, encryptionContext: { app: 'z' } });
    for (const r of REGIONS)
      await decrypt(ciphertext, { keyring: new KmsKeyring({ clientSupplier: capturingSupplier(), keyIds: [keys[r]!] }) });
    expectAllWiped({ 'kms-sdk-plaintext': 4, 'setDataKey-arg': 4, 'materials-own': 4, 'dek-copy': 1, 'derived-key': 4 });
  });

  it('KmsKeyring: a further key failing after GenerateDataKey succeeded — encrypt fails, nothing stays', async () => {
    kms.setFault('eu-west-1', { mode: 'error' });
    const keyring = new KmsKeyring({
      clientSupplier: capturingSupplier(),
      generatorKeyId: keys['us-east-1'],
      keyIds: [keys['eu-west-1']!],
      maxRetries: 0,
    });
    await expect(encrypt(pt, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_KEYRING_FAILURE' });
    expectAllWiped({ 'kms-sdk-plaintext': 1, 'materials-own': 1, 'dek-copy': 1 });
  });

  it('KmsDiscoveryKeyring, and an MRK replica decrypting in another region', async () => {
    const { ciphertext } = await encrypt(pt, { keyring: new KmsKeyring({ clientSupplier: capturingSupplier(), generatorKeyId: mrk[0]! }) });
    await decrypt(ciphertext, {
      keyring: new KmsDiscoveryKeyring({
        clientSupplier: capturingSupplier(),
        regions: ['eu-west-1'],
        discoveryFilter: { partition: 'aws', accountIds: [kms.accountId] },
      }),
    });
    await decrypt(ciphertext, { keyring: new KmsKeyring({ clientSupplier: capturingSupplier(), keyIds: [mrk[1]!] }) });
    expectAllWiped({ 'kms-sdk-plaintext': 3, 'materials-own': 3, 'derived-key': 3 });
  });

  it('decryptDataKey refusing what KMS returned (wrong length): the SDK buffer and our copy are wiped', async () => {
    const em = await new KmsKeyring({ clientSupplier: capturingSupplier(), generatorKeyId: keys['us-east-1'] }).onEncrypt(
      new EncryptionMaterials({ suite: getSuite(0x0478), encryptionContext: {} }),
    );
    const edk = em.encryptedDataKeys[0]!;
    em.zeroize();
    cap.log.length = 0;
    const supplier = capturingSupplier();
    await expect(
      decryptDataKey({
        client: supplier('us-east-1'),
        keyArn: keys['us-east-1']!,
        ciphertext: edk.ciphertext,
        numberOfBytes: 16,
        encryptionContext: {},
      }),
    ).rejects.toMatchObject({
      causes: [{ reason: 'MalformedResponse' }],
    });
    expectAllWiped({ 'kms-sdk-plaintext': 1 });
  });

  it('a Decrypt answer that arrives after the keyring’s deadline is wiped when it lands', async () => {
    const ciphertext = await quietEncrypt(pt, {
      keyring: new KmsKeyring({ clientSupplier: capturingSupplier(), generatorKeyId: keys['us-east-1'] }),
    });
    kms.setFault('us-east-1', { mode: 'latency', latencyMs: 300 });
    const keyring = new KmsKeyring({
      clientSupplier: capturingSupplier({ ignoreSignal: true }),
      keyIds: [keys['us-east-1']!],
      callTimeoutMs: 80,
      maxRetries: 0,
    });
    await expect(decrypt(ciphertext, { keyring })).rejects.toMatchObject({
      code: 'ENVELOPE_TIMEOUT',
      causes: [{ reason: expect.stringMatching(/Timeout/) }],
    });
    expect(captured('kms-sdk-plaintext')).toEqual([]); // not yet answered
    await until(() => captured('kms-sdk-plaintext').length > 0);
    expectAllWiped({ 'kms-sdk-plaintext': 1 });
    expect(captured('materials-own')).toEqual([]);
  });

  it('a GenerateDataKey answer after the deadline is wiped when it lands', async () => {
    kms.setFault('us-east-1', { mode: 'latency', latencyMs: 300 });
    const keyring = new KmsKeyring({
      clientSupplier: capturingSupplier({ ignoreSignal: true }),
      generatorKeyId: keys['us-east-1'],
      callTimeoutMs: 80,
      maxRetries: 0,
    });
    await expect(encrypt(pt, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_TIMEOUT' });
    await until(() => captured('kms-sdk-plaintext').length > 0);
    expectAllWiped({ 'kms-sdk-plaintext': 1 });
  });

  describe('MultiRegionKeyring', () => {
    /** kmsOperations over the capturing supplier; `ignoreSignal` ops finish (and answer) after the keyring gave up. */
    function ops(o: { ignoreSignal?: boolean } = {}): KmsOperations {
      const real = kmsOperations(capturingSupplier());
      const never = new AbortController().signal;
      return {
        generateDataKey: async (a) => {
          const r = await real.generateDataKey(o.ignoreSignal ? { ...a, signal: never } : a);
          cap.record('kms-op-plaintext', r.plaintext, 'kms-operations');
          return r;
        },
        encrypt: (a) => real.encrypt(o.ignoreSignal ? { ...a, signal: never } : a),
        decrypt: async (a) => {
          const r = await real.decrypt(o.ignoreSignal ? { ...a, signal: never } : a);
          cap.record('kms-op-plaintext', r.plaintext, 'kms-operations');
          return r;
        },
      };
    }
    const keyring = (k: string[], kmsOps: KmsOperations, extra: Partial<ConstructorParameters<typeof MultiRegionKeyring>[0]> = {}) =>
      new MultiRegionKeyring({
        keys: k.map((keyId) => ({ keyId })),
        kms: kmsOps,
        health: new HealthRegistry(),
        deadlineMs: 3000,
        hedgeAfterMs: 30,
        ...extra,
      });

    it('independent keys and MRK replicas: encrypt, decrypt with failover; every plaintext wiped', async () => {
      const independent = REGIONS.map((r) => keys[r]!);
      for (const k of [independent, mrk]) {
        const { ciphertext } = await encrypt(pt, { keyring: keyring(k, ops()) });
        kms.setFault('us-east-1', { mode: 'error' });
        await decrypt(ciphertext, { keyring: keyring(k, ops()) });
        kms.reset();
      }
      expectAllWiped({ 'kms-sdk-plaintext': 4, 'kms-op-plaintext': 4, 'materials-own': 4, 'dek-copy': 1 });
    });

    it('a hedged Decrypt: the slow region’s answer, arriving after another region won, is wiped', async () => {
      const independent = REGIONS.map((r) => keys[r]!);
      const ciphertext = await quietEncrypt(pt, { keyring: keyring(independent, ops()) });
      kms.setFault('us-east-1', { mode: 'latency', latencyMs: 250 });
      await decrypt(ciphertext, { keyring: keyring(independent, ops({ ignoreSignal: true })) });
      await until(() => captured('kms-op-plaintext').length >= 2);
      expectAllWiped({ 'kms-sdk-plaintext': 2, 'kms-op-plaintext': 2, 'materials-own': 1 });
    });

    it('quorum encrypt with the primary too slow: the local data key and the primary’s late answer are wiped', async () => {
      const independent = REGIONS.map((r) => keys[r]!);
      kms.setFault('us-east-1', { mode: 'latency', latencyMs: 600 });
      // Generous for the healthy regions' Encrypt under a loaded CI machine, short of the primary's latency.
      const k = keyring(independent, ops({ ignoreSignal: true }), { encryptPolicy: { quorum: 2 }, callTimeoutMs: 250 });
      const { warnings } = await encrypt(pt, { keyring: k });
      expect(warnings.map((w) => w.code)).toEqual(['DEGRADED_ENCRYPT']);
      await until(() => captured('kms-op-plaintext').length >= 1);
      expectAllWiped({ 'kms-sdk-plaintext': 1, 'kms-op-plaintext': 1, 'setDataKey-arg': 1, 'materials-own': 1, 'dek-copy': 2 });
    });
  });
});

// ------------------------------------------------------------------------------ config, plugin

describe('config-built keyrings and the keyring-env plugin', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'zeroization-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  /** Records what Buffer.from decodes from base64 inside config and keyring-env. */
  function captureBase64Decodes(): void {
    const real = Buffer.from.bind(Buffer) as (...a: unknown[]) => Buffer;
    vi.spyOn(Buffer, 'from').mockImplementation(((...a: unknown[]) => {
      const out = real(...a);
      if (a[1] === 'base64') {
        const o = cap.origin();
        if (o.startsWith('config/') || o.startsWith('keyring-env/')) cap.record('wrapping-key-temp', out, o);
      }
      return out;
    }) as typeof Buffer.from);
  }

  it('raw-aes from an inline key and from a key file; the decoded temporaries are wiped (also for a bad length)', async () => {
    captureBase64Decodes();
    const key = randomBytes(32);
    const file = path.join(dir, 'k.bin');
    await writeFile(file, key, { mode: 0o600 });
    const short = path.join(dir, 'short.bin');
    await writeFile(short, randomBytes(31), { mode: 0o600 });
    const a = await buildKeyring({ type: 'raw-aes', namespace: 'cfg', name: 'k', key: key.toString('base64') });
    const b = await buildKeyring({ type: 'raw-aes', namespace: 'cfg', name: 'k', keyFile: file });
    await expect(buildKeyring({ type: 'raw-aes', namespace: 'cfg', name: 'k', key: randomBytes(31).toString('base64') })).rejects.toThrow(
      /16, 24 or 32-byte/,
    );
    await expect(buildKeyring({ type: 'raw-aes', namespace: 'cfg', name: 'k', keyFile: short })).rejects.toThrow(/16, 24 or 32-byte/);
    key.fill(0);
    vi.restoreAllMocks();
    const { ciphertext } = await encrypt(pt, { keyring: a, suite: 0x0478 });
    await decrypt(ciphertext, { keyring: b });
    expectAllWiped({ 'wrapping-key-temp': 4, 'materials-own': 2, 'derived-key': 2 });
  });

  it('a config-built manager with an audit sink and a cache: round trip, then clear', async () => {
    const events: AuditEvent[] = [];
    const cmm = (await buildMaterialsManager(
      {
        keyring: { type: 'multi', generator: { type: 'raw-aes', namespace: 'cfg', name: 'k', key: randomBytes(32).toString('base64') } },
        cache: { maxAgeMs: 60_000 },
      },
      { audit: callbackAuditSink((e) => events.push(e)) },
    )) as CachingMaterialsManager;
    const { ciphertext } = await encrypt(pt, { materialsManager: cmm, suite: 0x0478 });
    await decrypt(ciphertext, { materialsManager: cmm });
    expect(events.map((e) => e.operation)).toEqual(expect.arrayContaining(['generate', 'unwrap']));
    const cached = captured('materials-own').filter((c) => !isZero(c.buf));
    expect(cached).toHaveLength(2); // one encrypt and one decrypt entry
    (cmm.cache as LruMaterialsCache).clear();
    expectAllWiped({ 'materials-own': 4, 'derived-key': 2, 'wrapping-key-temp': 1 });
  });

  it('keyring-env (loaded as a plugin module): variable, key file, bad lengths', async () => {
    captureBase64Decodes();
    const registry = createRegistry().load(envAesPlugin);
    const key = randomBytes(32);
    const file = path.join(dir, 'env.b64');
    await writeFile(file, key.toString('base64'));
    await chmod(file, 0o600);
    const fromVar = await buildKeyring(
      { type: 'env-aes', namespace: 'env', name: 'k', variable: 'ZK' },
      { registry: createRegistry({ env: { ZK: key.toString('base64') } }).load(envAesPlugin) },
    );
    const fromFile = await buildKeyring({ type: 'env-aes', namespace: 'env', name: 'k', keyFile: file }, { registry });
    await expect(
      buildKeyring(
        { type: 'env-aes', namespace: 'env', name: 'k', variable: 'ZK' },
        { registry: createRegistry({ env: { ZK: randomBytes(20).toString('base64') } }).load(envAesPlugin) },
      ),
    ).rejects.toThrow(/16, 24 or 32 bytes/);
    key.fill(0);
    vi.restoreAllMocks();
    const { ciphertext } = await encrypt(pt, { keyring: fromVar, suite: 0x0478 });
    await decrypt(ciphertext, { keyring: fromFile });
    expectAllWiped({ 'wrapping-key-temp': 4, 'materials-own': 2, 'derived-key': 2 });
  });

  it('keyring-env through "plugins" (the built package): data keys are still wiped', async () => {
    const key = randomBytes(32).toString('base64');
    const k = await buildKeyring(
      { plugins: ['@envelope/keyring-env'], keyring: { type: 'env-aes', namespace: 'env', name: 'k', variable: 'ZK' } },
      { env: { ZK: key } },
    );
    const { ciphertext } = await encrypt(pt, { keyring: k, suite: 0x0478 });
    await decrypt(ciphertext, { keyring: k });
    expectAllWiped({ 'materials-own': 2, 'setDataKey-arg': 2, 'dek-copy': 1, 'derived-key': 2 });
  });
});
