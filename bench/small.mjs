// Small messages: 1 KiB encrypt+decrypt round trips per second, ours vs the SDK, alternating,
// without and with caching materials managers (ours: @envelope/caching; the SDK's
// NodeCachingMaterialsManager over its local cache), same limits.
import { CachingMaterialsManager } from '@envelope/caching';
import { encrypt, decrypt } from '@envelope/core';
import { NodeCachingMaterialsManager, getLocalCryptographicMaterialsCache } from '@aws-crypto/client-node';
import { impls, ours, randomBytes, sdk, sdkKeyring } from './lib.mjs';

function cachedImpls() {
  const oursCmm = new CachingMaterialsManager({ underlying: ours, maxAgeMs: 60_000, maxMessagesEncrypted: 1_000_000 });
  const sdkCmm = new NodeCachingMaterialsManager({ backingMaterials: sdkKeyring, cache: getLocalCryptographicMaterialsCache(1000), maxAge: 60_000, maxMessagesEncrypted: 1_000_000 });
  return {
    ours: {
      encrypt: async (pt, suite) => (await encrypt(pt, { materialsManager: oursCmm, suite })).ciphertext,
      decrypt: async (ct) => (await decrypt(ct, { materialsManager: oursCmm })).plaintext,
    },
    sdk: {
      encrypt: async (pt, suite) => (await sdk.encrypt(sdkCmm, pt, { suiteId: suite, plaintextLength: pt.length })).result,
      decrypt: async (ct) => (await sdk.decrypt(sdkCmm, ct)).plaintext,
    },
  };
}

export async function small({ suite, seconds, cached = false }) {
  const use = cached ? cachedImpls() : impls;
  const pt = randomBytes(1024);
  const count = { ours: 0, sdk: 0 };
  const time = { ours: 0, sdk: 0 };
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (const name of ['ours', 'sdk']) {
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) await use[name].decrypt(await use[name].encrypt(pt, suite, 4096));
      time[name] += performance.now() - t0;
      count[name] += 20;
    }
  }
  const o = count.ours / (time.ours / 1000);
  const s = count.sdk / (time.sdk / 1000);
  return { case: `1 KiB round trip, suite 0x${suite.toString(16).padStart(4, '0')}, ${cached ? 'with' : 'no'} cache`, suite, cached, ours: o, sdk: s, ratioSdk: o / s };
}
