/** `"cache": {...}` around a keyring: a caching materials manager. */
import { z } from 'zod';
import type { Keyring, MaterialsManager } from '@envelope/core';
import { CachingMaterialsManager, LruMaterialsCache } from '@envelope/caching';
import type { AuditSink } from '../audit.js';

export const cacheSchema = z.strictObject({
  maxAgeMs: z.number().int().positive(),
  maxMessagesEncrypted: z.number().int().positive().optional(),
  maxBytesEncrypted: z.number().int().positive().optional(),
  capacity: z.number().int().positive().default(1000),
  partition: z.string().min(1).optional(),
});
export type CacheConfig = z.infer<typeof cacheSchema>;

/** Wraps the keyring in a caching manager; cache hits and misses become audit events. */
export function wrapWithCache(keyring: Keyring, c: CacheConfig, audit: AuditSink): MaterialsManager {
  return new CachingMaterialsManager({
    underlying: keyring,
    cache: new LruMaterialsCache({ capacity: c.capacity }),
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
