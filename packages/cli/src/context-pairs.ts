/**
 * `-c key=value` flags. Kept out of io.ts (which `--help` and `--version` load) so that this
 * may use core's context helpers without putting core on every command's start-up path.
 */
import { encryptionContextFromPairs } from '@envelope/core';
import { UsageError } from './io.js';

/** The most bytes an encryption-context key or value may take (a 2-byte length in the format). */
const MAX_CONTEXT_FIELD_BYTES = 0xffff;

/**
 * Parses repeated `-c key=value` flags into a context (a null-prototype object, so `__proto__`
 * is an ordinary key). Oversized fields are refused here, before any work, without echoing them.
 */
export function parseContextPairs(pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const seen = new Set<string>();
  const parsed: (readonly [string, string])[] = [];
  for (const [n, p] of pairs.entries()) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`-c expects key=value (pair ${n + 1} has no key or no "=")`);
    const k = p.slice(0, i);
    const v = p.slice(i + 1);
    if (Buffer.byteLength(k) > MAX_CONTEXT_FIELD_BYTES || Buffer.byteLength(v) > MAX_CONTEXT_FIELD_BYTES) {
      throw new UsageError(`-c: pair ${n + 1} is longer than ${MAX_CONTEXT_FIELD_BYTES} bytes (key or value)`);
    }
    if (seen.has(k)) throw new UsageError(`-c: key ${JSON.stringify(k)} given twice`);
    seen.add(k);
    parsed.push([k, v]);
  }
  // Core's context: frozen and without a prototype (`-c __proto__=x` is an ordinary pair, 15.i2).
  return encryptionContextFromPairs(parsed, '-c');
}
