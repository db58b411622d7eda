/**
 * Random bytes for IVs and data keys, drawn from a pooled CSPRNG buffer: one `randomFillSync`
 * per 4 KiB instead of one per call (each call into OpenSSL showed up as a tenth of the
 * cryptographic operations' time). Every handed-out slice is copied into a buffer of its own and
 * its bytes in the pool are wiped at once, so pooled randomness is never handed out twice nor
 * left lying around.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/** `n` fresh random bytes in a buffer of their own (n ≤ 4096 comes from the pool). */
export function randomBytesPooled(n: number): Buffer {
  const out = Buffer.alloc(n);
  if (n > POOL_BYTES) return randomFillSync(out);
  if (offset + n > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  pool.copy(out, 0, offset, offset + n);
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}
