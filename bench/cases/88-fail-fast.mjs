// Fail fast (issue 18.3): 120-file batches whose only target region is blackholed on kms-local,
// each one whole `envelope` process with default timeouts; target ≤ 20 s a batch, a summary by
// cause, nothing changed. See ../fail-fast.mjs. Full run only (about a minute).
export const id = 'fail-fast';
export const title = 'Fail fast: 120-file batches against a blackholed region (whole processes, kms-local)';

export async function run({ quick, log }) {
  if (quick) {
    log('fail-fast: full run only');
    return { unavailable: 'full run only' };
  }
  const { failFastBench } = await import('../fail-fast.mjs');
  return failFastBench({ files: 120, log });
}

export function markdown(r) {
  if (r.unavailable) return [`Not measured in this run (${r.unavailable}).`];
  return [
    '| batch (120 files, target region blackholed) | wall time | requests to the dead region | failure lines | inputs | target ≤ 20 s |',
    '|---|---|---|---|---|---|',
    ...Object.entries(r.batches).map(
      ([name, b]) =>
        `| ${name} | ${b.seconds.toFixed(1)} s | ${b.deadRegionRequests} | ${b.failureLines} (${b.summary}) | ${b.unchanged ? 'unchanged' : '**changed**'} | ${b.seconds <= 20 ? 'met' : '**not met**'} |`,
    ),
    `| rewrap --mode add, one process per file (no shared registry), projected | ${r.onePerFile.projectedSeconds.toFixed(0)} s (${r.onePerFile.secondsPerFile.toFixed(1)} s a file × ${r.files}) | | | | |`,
  ];
}
