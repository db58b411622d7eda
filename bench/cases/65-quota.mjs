// Quota-aware failover on kms-local (issue 18.4): the primary blackholed, the secondary
// throttled to N/s, an open-loop load of 2 × N operations a second through a MultiRegionKeyring
// (decrypts, encrypts), then the same load through the caching materials manager. See
// ../quota-failover.mjs. Full run: 30 s per phase; quick: 5 s.
import { f0 } from '../format.mjs';

export const id = 'quota';
export const title = 'Quota-aware failover (kms-local: primary blackholed, secondary throttled to N/s, offered 2 × N/s)';

export async function run({ quick, log }) {
  const { quotaFailoverBench } = await import('../quota-failover.mjs');
  return quotaFailoverBench({ seconds: quick ? 5 : 30, rate: 20, log });
}

export function markdown(q) {
  const pct = (x) => `${f0(100 * x)}%`;
  return [
    '| load | N | offered | goodput (steady) | errors | secondary breaker | secondary KMS calls/s | learned rate |',
    '|---|---|---|---|---|---|---|---|',
    ...Object.entries(q).map(
      ([phase, x]) =>
        `| ${phase} | ${x.rate}/s | ${2 * x.rate}/s × ${x.seconds} s | ${x.goodput.toFixed(1)}/s = ${pct(x.goodputOverN)} of N (${pct(x.steadyGoodputOverN)}) | ` +
        `${
          Object.entries(x.errors)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ') || 'none'
        } | ${x.secondaryBreaker.closedThroughout ? 'closed throughout' : x.secondaryBreaker.transitions.map((t) => t.to).join('→')} | ` +
        `${x.secondaryCallsPerSecond.toFixed(1)} | ${x.pacer ? `${x.pacer.ratePerSecond.toFixed(1)}/s` : 'n/a'} |`,
    ),
    '',
    'Goodput counts the operations that succeeded over the run (steady: after its first fifth, once the',
    "region's initial burst is spent and the rate learned). Secondary KMS calls include the throttled ones.",
  ];
}
