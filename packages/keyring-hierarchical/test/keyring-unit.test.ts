/**
 * The keyring's own logic on an in-memory branch key source (no network): which EDKs are its
 * own, what each failure becomes, and that every branch key copy it is handed is zeroized.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  DecryptionMaterials,
  EncryptionMaterials,
  SUITES,
  isEnvelopeError,
  type EncryptedDataKey,
  type EnvelopeError,
} from '@envelope/core';
import { BranchKeyMaterials, HierarchicalKeyring, keyStoreError, type BranchKeySource } from '../src/index.js';

const suite = SUITES.get(0x0478)!;

/** Branch keys in memory: id → versions (the last is active); counts reads. */
function memorySource(ids: string[]) {
  const keys = new Map(ids.map((id) => [id, [{ version: randomUUID(), key: randomBytes(32) }]]));
  const reads: string[] = [];
  const source: BranchKeySource = {
    logicalKeyStoreName: 'memory',
    async getActiveBranchKey(id) {
      reads.push(`${id}:active`);
      const v = keys.get(id)?.at(-1);
      if (!v) throw keyStoreError('BranchKeyNotFound', 'not found', { branchKeyId: id });
      return new BranchKeyMaterials({ branchKeyId: id, version: v.version, key: v.key });
    },
    async getBranchKeyVersion(id, version) {
      reads.push(`${id}:${version}`);
      const v = keys.get(id)?.find((x) => x.version === version);
      if (!v) throw keyStoreError('VersionNotFound', 'not found', { branchKeyId: id, version });
      return new BranchKeyMaterials({ branchKeyId: id, version: v.version, key: v.key });
    },
  };
  return { source, reads, rotate: (id: string) => keys.get(id)!.push({ version: randomUUID(), key: randomBytes(32) }) };
}

const em = (ec: Record<string, string> = { a: 'b' }) => new EncryptionMaterials({ suite, encryptionContext: ec });
const dm = (ec: Record<string, string> = { a: 'b' }) => new DecryptionMaterials({ suite, encryptionContext: ec });
async function failure(p: Promise<unknown>): Promise<EnvelopeError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isEnvelopeError(e)) throw new Error(`expected an EnvelopeError, got ${String(e)}`);
  return e;
}
afterEach(() => vi.restoreAllMocks());

describe('zeroization', () => {
  it('every branch key copy handed to the keyring is zeroized after one use; only the cache’s own entries remain', async () => {
    const copies: BranchKeyMaterials[] = [];
    const copy = BranchKeyMaterials.prototype.copy;
    vi.spyOn(BranchKeyMaterials.prototype, 'copy').mockImplementation(function (this: BranchKeyMaterials) {
      const c = copy.call(this);
      copies.push(c);
      return c;
    });
    const { source } = memorySource(['bk']);
    const keyring = new HierarchicalKeyring({ keyStore: source, branchKeyId: 'bk', cacheTtlSeconds: 60 });
    const m = await keyring.onEncrypt(em());
    const back = await keyring.onDecrypt(dm(), m.encryptedDataKeys);
    expect(Buffer.from(back.getDataKey()).equals(Buffer.from(m.getDataKey()))).toBe(true);
    // Copies: one per waiter (encrypt), one for the version alias (cache-owned), one per hit (decrypt).
    expect(copies.length).toBe(3);
    expect(copies.filter((c) => !c.zeroized)).toHaveLength(1); // the alias entry the cache owns
    keyring.cache.clear();
    expect(copies.every((c) => c.zeroized)).toBe(true);
  });
});

describe('which EDKs are this keyring’s', () => {
  it('other providers and other branch keys are not its own: skipped, nothing read, materials unchanged', async () => {
    const { source, reads } = memorySource(['bk', 'other']);
    const mine = new HierarchicalKeyring({ keyStore: source, branchKeyId: 'bk', cacheTtlSeconds: 60 });
    const theirs = new HierarchicalKeyring({ keyStore: source, branchKeyId: 'other', cacheTtlSeconds: 60 });
    const edk = (await theirs.onEncrypt(em())).encryptedDataKeys[0]!;
    reads.length = 0;
    const foreign: EncryptedDataKey[] = [edk, { providerId: 'aws-kms', providerInfo: Buffer.from('bk'), ciphertext: edk.ciphertext }];
    const out = await mine.onDecrypt(dm(), foreign);
    expect(out.hasDataKey).toBe(false);
    expect(reads).toEqual([]);
  });

  it('materials that already have a data key are returned unchanged', async () => {
    const { source, reads } = memorySource(['bk']);
    const keyring = new HierarchicalKeyring({ keyStore: source, branchKeyId: 'bk', cacheTtlSeconds: 60 });
    const m = dm().setDataKey(randomBytes(32));
    expect(await keyring.onDecrypt(m, [])).toBe(m);
    expect(reads).toEqual([]);
  });

  it('an EDK of the wrong length for the suite is refused before any read', async () => {
    const { source, reads } = memorySource(['bk']);
    const keyring = new HierarchicalKeyring({ keyStore: source, branchKeyId: 'bk', cacheTtlSeconds: 60 });
    const e = await failure(
      keyring.onDecrypt(dm(), [{ providerId: 'aws-kms-hierarchy', providerInfo: Buffer.from('bk'), ciphertext: randomBytes(75) }]),
    );
    expect([e.code, e.causes[0]!.reason]).toEqual(['ENVELOPE_NO_DECRYPTABLE_KEY', 'MalformedEncryptedDataKey']);
    expect(reads).toEqual([]);
  });
});

describe('several EDKs', () => {
  it('the first that unwraps wins; when none does, one error lists each', async () => {
    const { source, rotate } = memorySource(['bk']);
    const keyring = new HierarchicalKeyring({ keyStore: source, branchKeyId: 'bk', cacheTtlSeconds: 60 });
    const good = (await keyring.onEncrypt(em())).encryptedDataKeys[0]!;
    const missingVersion = { ...good, ciphertext: Buffer.from(good.ciphertext) };
    missingVersion.ciphertext.set(randomBytes(16), 28); // names a version the store does not have
    const tampered = { ...good, ciphertext: Buffer.from(good.ciphertext) };
    tampered.ciphertext[50]! ^= 1;
    rotate('bk');
    const ok = await keyring.onDecrypt(dm(), [missingVersion, tampered, good]);
    expect(ok.hasDataKey).toBe(true);
    const e = await failure(keyring.onDecrypt(dm(), [missingVersion, tampered]));
    expect(e.code).toBe('ENVELOPE_NO_DECRYPTABLE_KEY');
    expect(e.causes.map((c) => c.reason)).toEqual(['VersionNotFound', 'AuthenticationFailed']);
    expect(e.message).toContain('branch key "bk"');
  });
});

describe('options', () => {
  it('refuses bad options by name', () => {
    const { source } = memorySource(['bk']);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ branchKeyId: 'bk', branchKeyIdSupplier: () => 'bk' }, /^branchKeyId: give exactly one/],
      [{}, /^branchKeyId: give exactly one/],
      [{ branchKeyId: '' }, /^branchKeyId: expected a non-empty string/],
      [{ branchKeyId: 'bk', cacheTtlSeconds: 0 }, /^cacheTtlSeconds/],
      [{ branchKeyId: 'bk', refreshAheadSeconds: 60 }, /^refreshAheadSeconds/],
      [{ branchKeyId: 'bk', keyStore: {} }, /^keyStore/],
    ];
    for (const [o, msg] of bad)
      expect(() => new HierarchicalKeyring({ keyStore: source, cacheTtlSeconds: 60, ...o } as never)).toThrow(msg);
  });

  it('a supplier that returns no id is a coded error, and nothing is read', async () => {
    const { source, reads } = memorySource(['bk']);
    const keyring = new HierarchicalKeyring({ keyStore: source, branchKeyIdSupplier: () => '', cacheTtlSeconds: 60 });
    expect((await failure(keyring.onEncrypt(em()))).code).toBe('ENVELOPE_INVALID_ARGUMENT');
    expect(reads).toEqual([]);
  });
});
