/**
 * @envelope/caching: a caching materials manager over an LRU materials cache — fewer KMS
 * calls, no stampedes (single-flight), no over-used keys (age, message and byte limits), and no
 * data key left behind (copies out, zeroize on eviction and expiry).
 */
export { CachingMaterialsManager } from './caching-materials-manager.js';
export type { CachingMaterialsManagerOptions, CacheEvent, CacheMetrics } from './caching-materials-manager.js';
export { LruMaterialsCache } from './lru-cache.js';
export type { MaterialsCache, CacheEntry, RemovalReason, LruMaterialsCacheOptions } from './lru-cache.js';
export { encryptCacheKey, decryptCacheKey } from './cache-key.js';
export { SingleFlight, RETRY } from './single-flight.js';
export type { FlightCaller, FlightDone } from './single-flight.js';
export { copyEncryptionMaterials, copyDecryptionMaterials } from './copy.js';
