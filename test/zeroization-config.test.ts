/**
 * Zeroization audit (issue #10), configuration: config-built keyrings and managers and the
 * keyring-env plugin wipe the wrapping-key temporaries they decode and the data keys they use.
 * The capture harness is test/zeroization/capture.ts.
 */
import { cap, captured, expectAllWiped, isZero } from './zeroization/capture.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decrypt, encrypt } from '@envelope/core';
import type { CachingMaterialsManager, LruMaterialsCache } from '@envelope/caching';
import { buildKeyring, buildMaterialsManager, callbackAuditSink, createRegistry, type AuditEvent } from '@envelope/config';
import envAesPlugin from '@envelope/keyring-env';
import { pt } from './zeroization/fixtures.js';

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
