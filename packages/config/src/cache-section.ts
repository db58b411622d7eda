/** `"cache": {...}` around a keyring: a caching materials manager (docs/caching.md). */
import type { Keyring, MaterialsManager } from '@envelope/core';
import type { AuditSink } from './audit.js';
import type { MaterialsCache } from '@envelope/caching';
import { s, type Infer } from './schema.js';

export const cacheSchema = s.object({
  maxAgeMs: s.int(1),
  maxMessagesEncrypted: s.int(1).optional(),
  maxBytesEncrypted: s.int(1).optional(),
  capacity: s.int(1).default(1000),
  partition: s.nonEmpty().optional(),
});
export type CacheConfig = Infer<typeof cacheSchema>;

/** Wraps the keyring in a caching manager (loads @envelope/caching); hits and misses become audit events. */
export async function wrapWithCache(keyring: Keyring, c: CacheConfig, audit: AuditSink, cache: MaterialsCache): Promise<MaterialsManager> {
  const { CachingMaterialsManager } = await import('@envelope/caching');
  return new CachingMaterialsManager({
    underlying: keyring,
    cache,
    maxAgeMs: c.maxAgeMs,
    ...(c.maxMessagesEncrypted !== undefined ? { maxMessagesEncrypted: c.maxMessagesEncrypted } : {}),
    ...(c.maxBytesEncrypted !== undefined ? { maxBytesEncrypted: c.maxBytesEncrypted } : {}),
    ...(c.partition !== undefined ? { partition: c.partition } : {}),
    onEvent: (e) => {
      if (e.operation === 'cache-evict') return;
      audit.emit({
        time: new Date().toISOString(),
        operation: e.operation,
        keyringType: 'cache',
        outcome: 'success',
        latencyMs: e.latencyMs ?? 0,
        contextKeys: e.contextKeys,
        details: { kind: e.kind, partition: e.partition, suiteId: e.suiteId },
      });
    },
  });
}
