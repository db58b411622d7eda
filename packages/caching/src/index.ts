/**
 * @envelope/caching: a caching materials manager over an LRU materials cache — fewer KMS
 * calls, no stampedes (single-flight), no stale keys (age, message and byte limits).
 */
export { CachingMaterialsManager } from './caching-materials-manager.js';
export type { CachingMaterialsManagerOptions, CacheEvent, CacheMetrics } from './caching-materials-manager.js';
export { LruMaterialsCache } from './lru-cache.js';
export type { MaterialsCache, CacheEntry } from './lru-cache.js';
export { encryptCacheKey, decryptCacheKey } from './cache-key.js';
