// Rewrap of a large unsigned message (header only) vs decrypt + re-encrypt (full run only).
// See ../rewrap.mjs.
import { f0 } from '../format.mjs';
import { MiB, messageOf } from '../lib.mjs';

export const id = 'rewrap';
export const title = 'Rewrap';

export async function run({ quick, log }) {
  if (quick) {
    log('rewrap: full run only');
    return { unavailable: 'full run only' };
  }
  let rewrapBench;
  try {
    ({ rewrapBench } = await import('../rewrap.mjs'));
  } catch (e) {
    log(`rewrap: not available yet (${messageOf(e)})`);
    return { unavailable: 'not available yet' };
  }
  const w = await rewrapBench({ size: 1024 * MiB });
  log(
    `${w.case}, files and streams: rewrap ${f0(w.rewrapMs)} ms vs decrypt+re-encrypt ${f0(w.fullMs)} ms = ${w.speedup.toFixed(1)}×, rewrap RSS growth ${f0(w.rewrapRssGrowthMiB)} MiB`,
  );
  if (w.memRewrapMs !== undefined) {
    log(
      `${w.case}, in memory: rewrap ${w.memRewrapMs.toFixed(2)} ms vs decrypt+re-encrypt ${f0(w.memFullMs)} ms = ${f0(w.memSpeedup)}×, rewrap RSS growth ${f0(w.memRewrapRssGrowthMiB)} MiB`,
    );
  }
  return w;
}

export function markdown(w) {
  if (w.unavailable) return [w.unavailable];
  const lines = ['| case | rewrap | decrypt + re-encrypt | speed-up | rewrap RSS growth |', '|---|---|---|---|---|'];
  lines.push(
    `| ${w.case}, file to file through streams | ${f0(w.rewrapMs)} ms | ${f0(w.fullMs)} ms | ${w.speedup.toFixed(1)}× | ${f0(w.rewrapRssGrowthMiB)} MiB |`,
  );
  if (w.memRewrapMs !== undefined)
    lines.push(
      `| ${w.case}, in memory (\`rewrap()\`: new header + view of the body) | ${w.memRewrapMs.toFixed(2)} ms | ${f0(w.memFullMs)} ms | ${f0(w.memSpeedup)}× | ${f0(w.memRewrapRssGrowthMiB)} MiB |`,
    );
  return lines;
}
