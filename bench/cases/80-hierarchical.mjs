// Hierarchical keyring (issue 19): 10,000 round trips over 100 tenants for ours, the SDK's
// hierarchical keyring, and our KMS keyring with and without the caching materials manager
// (KMS calls, DynamoDB calls, round trips/s), the single-flight count, and a failover run with
// one region blackholed. Needs moto_server (a crash says so). See ../hierarchical.mjs and
// ../hierarchical-failover.mjs.
import { hierarchicalBench, markdownRows as benchRows } from '../hierarchical.mjs';
import { hierarchicalFailoverBench, markdownRows as failoverRows } from '../hierarchical-failover.mjs';

export const id = 'hierarchical';
export const title = 'Hierarchical keyring (branch keys on moto_server, KMS on kms-local)';

export async function run({ quick, log }) {
  const bench = await hierarchicalBench({ messages: quick ? 1000 : 10_000, tenants: 100, inFlight: 16, log });
  const failover = await hierarchicalFailoverBench({ rounds: quick ? 10 : 50, log });
  return { bench, failover };
}

export function markdown(r) {
  return [...benchRows(r.bench), '', '### Failover', '', ...failoverRows(r.failover)];
}
