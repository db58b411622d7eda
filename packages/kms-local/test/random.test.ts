import { describe, expect, it } from 'vitest';
import { randomBytesPooled } from '../src/random.js';

describe('pooled randomness (unit)', () => {
  it('hands out fresh, distinct bytes in buffers of their own, across pool refills', () => {
    const seen = new Set<string>();
    const bufs: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      const b = randomBytesPooled(12); // 24,000 bytes: several refills of the 4 KiB pool
      expect(b.byteLength).toBe(12);
      seen.add(b.toString('hex'));
      bufs.push(b);
    }
    expect(seen.size).toBe(2000);
    // Each is its own allocation: wiping one leaves the others alone.
    bufs[0]!.fill(0);
    expect(bufs[1]!.equals(Buffer.alloc(12))).toBe(false);
    expect(new Set(bufs.slice(1, 50).map((b) => b.buffer)).size).toBe(49);
  });

  it('serves sizes past the pool directly', () => {
    const big = randomBytesPooled(5000);
    expect(big.byteLength).toBe(5000);
    expect(big.equals(Buffer.alloc(5000))).toBe(false);
  });
});
