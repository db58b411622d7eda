/**
 * The fuzzer's coverage map. A block is a range V8 reported for a function of core; its count for
 * one input is the count of the innermost range of the same function that contains it (V8 omits
 * nested ranges that ran as often as their parent). Features are (block, hit-count bucket) pairs.
 */
/** @typedef {{ url: string, fns: number[][] }} ScriptCoverage one script's functions, each as flat (start, end, count) triples */

/** @param {number} n */
const bucket = (n) => (n <= 3 ? n : n < 8 ? 4 : n < 16 ? 5 : n < 32 ? 6 : n < 128 ? 7 : 8);

export class CoverageMap {
  /** @type {Map<string, number>} `${url}|${fnStart}|${fnEnd}|${start}|${end}` -> block id */
  blockIds = new Map();
  /** @type {Map<string, { id: number, start: number, end: number }[]>} function key -> its blocks */
  fnBlocks = new Map();
  /** @type {Set<number>} */
  coveredBlocks = new Set();
  /** @type {Set<number>} */
  features = new Set();

  /**
   * Adds an input's coverage; returns how many new features it brought.
   * @param {readonly ScriptCoverage[]} scripts
   */
  absorb(scripts) {
    const { blockIds, fnBlocks, coveredBlocks, features } = this;
    let fresh = 0;
    for (const s of scripts) {
      for (const ranges of s.fns) {
        // Whole triples only: every index read is in range.
        const at = (/** @type {number} */ i) => /** @type {number} */ (ranges[i]);
        const fn = `${s.url}|${ranges[0]}|${ranges[1]}`;
        let known = fnBlocks.get(fn);
        if (!known) fnBlocks.set(fn, (known = []));
        for (let i = 0; i < ranges.length; i += 3) {
          const key = `${fn}|${ranges[i]}|${ranges[i + 1]}`;
          if (!blockIds.has(key)) {
            const id = blockIds.size;
            blockIds.set(key, id);
            known.push({ id, start: at(i), end: at(i + 1) });
          }
        }
        for (const b of known) {
          // Innermost reported range of this function containing the block.
          let count = 0;
          let width = Infinity;
          for (let i = 0; i < ranges.length; i += 3) {
            const st = at(i);
            const en = at(i + 1);
            if (st <= b.start && en >= b.end && en - st < width) {
              width = en - st;
              count = at(i + 2);
            }
          }
          if (count === 0) continue;
          coveredBlocks.add(b.id);
          const f = b.id * 16 + bucket(count);
          if (!features.has(f)) {
            features.add(f);
            fresh++;
          }
        }
      }
    }
    return fresh;
  }
}
