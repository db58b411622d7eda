// Small messages: 1 KiB encrypt/s, decrypt/s and round trips/s (encrypt then decrypt of the
// message just made), ours vs the SDK, alternating in batches of 20, without and with caching
// materials managers (ours: @envelope/caching; the SDK's NodeCachingMaterialsManager over
// getLocalCryptographicMaterialsCache), same limits. Batches of the first 0.3 s are warm-up.
import { encrypt, decrypt } from '@envelope/core';
import { NodeCachingMaterialsManager, getLocalCryptographicMaterialsCache } from '@aws-crypto/client-node';
import { impls, ours, randomBytes, sdk, sdkKeyring, same, hex, timed, CONTEXT } from '../lib.mjs';
import { f0, ratio } from '../format.mjs';

export const id = 'small';
export const title = 'Small messages (1 KiB, operations per second)';

async function cachedImpls() {
  let CachingMaterialsManager;
  try {
    ({ CachingMaterialsManager } = await import('@envelope/caching'));
  } catch {
    return undefined;
  }
  const oursCmm = new CachingMaterialsManager({ underlying: ours, maxAgeMs: 60_000, maxMessagesEncrypted: 1_000_000 });
  const sdkCmm = new NodeCachingMaterialsManager({
    backingMaterials: sdkKeyring,
    cache: getLocalCryptographicMaterialsCache(1000),
    maxAge: 60_000,
    maxMessagesEncrypted: 1_000_000,
  });
  return {
    ours: {
      encrypt: async (pt, suite) => (await encrypt(pt, { materialsManager: oursCmm, suite, encryptionContext: CONTEXT })).ciphertext,
      decrypt: async (ct) => (await decrypt(ct, { materialsManager: oursCmm })).plaintext,
    },
    sdk: {
      encrypt: async (pt, suite) =>
        (await sdk.encrypt(sdkCmm, pt, { suiteId: suite, plaintextLength: pt.length, encryptionContext: CONTEXT })).result,
      decrypt: async (ct) => (await sdk.decrypt(sdkCmm, ct)).plaintext,
    },
  };
}

async function measure({ suite, seconds, use }) {
  const pt = randomBytes(1024);
  const acc = { ours: { n: 0, enc: 0, dec: 0, cpu: 0 }, sdk: { n: 0, enc: 0, dec: 0, cpu: 0 } };
  const warm = Date.now() + 300;
  const end = warm + seconds * 1000;
  const cts = new Array(20);
  for (let round = 0; Date.now() < end; round++) {
    for (const name of ['ours', 'sdk']) {
      const e = await timed(async () => {
        for (let i = 0; i < 20; i++) cts[i] = await use[name].encrypt(pt, suite, 4096);
      });
      const d = await timed(async () => {
        for (let i = 0; i < 20; i++) {
          const back = await use[name].decrypt(cts[i]);
          if (round === 0 && !same(back, pt)) throw new Error(`${name} round trip differs`);
        }
      });
      if (Date.now() > warm) {
        acc[name].n += 20;
        acc[name].enc += e.wall;
        acc[name].dec += d.wall;
        acc[name].cpu += e.cpu + d.cpu;
      }
    }
  }
  const rate = (a) => ({
    enc: a.n / (a.enc / 1000),
    dec: a.n / (a.dec / 1000),
    roundTrip: a.n / ((a.enc + a.dec) / 1000),
    roundTripCpu: a.n / (a.cpu / 1000),
    n: a.n,
  });
  const o = rate(acc.ours);
  const s = rate(acc.sdk);
  return {
    ours: o,
    sdk: s,
    vsSdk: { enc: o.enc / s.enc, dec: o.dec / s.dec, roundTrip: o.roundTrip / s.roundTrip, roundTripCpu: o.roundTripCpu / s.roundTripCpu },
  };
}

export async function run({ quick, log }) {
  const rows = [];
  const cached = await cachedImpls();
  for (const withCache of [false, true]) {
    for (const suite of [0x0478, 0x0578]) {
      const name = `1 KiB, ${hex(suite)}, ${withCache ? 'with' : 'no'} cache`;
      if (withCache && !cached) {
        rows.push({ case: name, suite, cached: true, unavailable: 'n/a (caching package not built yet)' });
        log(`${name.padEnd(38)} n/a (caching package not built yet)`);
        continue;
      }
      const r = {
        case: name,
        suite,
        cached: withCache,
        ...(await measure({ suite, seconds: quick ? 1.5 : 5, use: withCache ? cached : impls })),
      };
      rows.push(r);
      log(
        `${name.padEnd(38)} enc/dec/round trip per s: ours ${f0(r.ours.enc)}/${f0(r.ours.dec)}/${f0(r.ours.roundTrip)} | SDK ${f0(r.sdk.enc)}/${f0(r.sdk.dec)}/${f0(r.sdk.roundTrip)} | ours/SDK ${ratio(r.vsSdk.enc)} ${ratio(r.vsSdk.dec)} round trip ${ratio(r.vsSdk.roundTrip)} (by CPU time ${ratio(r.vsSdk.roundTripCpu)})`,
      );
    }
  }
  return rows;
}

export function markdown(rows) {
  return [
    '| case | ours enc/s | ours dec/s | ours round trips/s | SDK enc/s | SDK dec/s | SDK round trips/s | ours/SDK enc | ours/SDK dec | ours/SDK round trip | round trip by CPU time |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((x) =>
      x.unavailable
        ? `| ${x.case} | ${x.unavailable} | | | | | | | | | |`
        : `| ${x.case} | ${f0(x.ours.enc)} | ${f0(x.ours.dec)} | ${f0(x.ours.roundTrip)} | ${f0(x.sdk.enc)} | ${f0(x.sdk.dec)} | ${f0(x.sdk.roundTrip)} | ${ratio(x.vsSdk.enc)} | ${ratio(x.vsSdk.dec)} | ${ratio(x.vsSdk.roundTrip)} | ${ratio(x.vsSdk.roundTripCpu)} |`,
    ),
  ];
}
