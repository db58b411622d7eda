// Failover on kms-local (full run only): ours (MultiRegionKeyring) vs the SDK's MRK-aware
// discovery multi-keyring, healthy and with the primary region blackholed. See ../failover.mjs.
import { f0 } from '../format.mjs';
import { messageOf } from '../lib.mjs';

export const id = 'failover';
export const title = 'Failover (kms-local, 20 ms added per region)';

export async function run({ quick, log }) {
  if (quick) {
    log('failover: full run only');
    return { unavailable: 'full run only' };
  }
  let failoverBench;
  try {
    ({ failoverBench } = await import('../failover.mjs'));
  } catch (e) {
    log(`failover: not available yet (${messageOf(e)})`);
    return { unavailable: 'not available yet' };
  }
  const r = await failoverBench({ count: 1000 });
  const fmt = (x) => `p50 ${f0(x.p50)} p99 ${f0(x.p99)} max ${f0(x.max)} ms, ${x.failures} failed`;
  log(`${r.case}: healthy ours ${fmt(r.healthyOurs)} | SDK ${fmt(r.healthySdk)}`);
  log(
    `  primary blackholed: ours ${fmt(r.blackholedOurs)} | SDK (client timeout ${r.sdkTimeoutMs} ms) ${fmt(r.blackholedSdk)}; single region ${fmt(r.singleRegion)}`,
  );
  return r;
}

export function markdown(fo) {
  if (fo.unavailable) return [fo.unavailable];
  return [
    '| case | p50 | p99 | max | failed |',
    '|---|---|---|---|---|',
    ...[
      ['ours, all healthy', fo.healthyOurs],
      ['SDK, all healthy', fo.healthySdk],
      ['ours, primary blackholed', fo.blackholedOurs],
      [`SDK, primary blackholed (client timeout ${fo.sdkTimeoutMs} ms; 50 decrypts)`, fo.blackholedSdk],
      ['ours, healthy single region', fo.singleRegion],
    ].map(([n, x]) => `| ${n} | ${f0(x.p50)} ms | ${f0(x.p99)} ms | ${f0(x.max)} ms | ${x.failures} |`),
  ];
}
