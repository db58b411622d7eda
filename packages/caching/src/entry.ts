/**
 * Cache entries as this manager makes them, and the per-use limit checks. A use is checked and
 * counted in the same synchronous step that hands out its copy: that is what keeps a data key
 * from ever passing its message or byte limit under concurrency.
 */
import { DecryptionMaterials, EncryptionMaterials } from '@envelope/core';
import { copyDecryptionMaterials, copyEncryptionMaterials } from './copy.js';
import type { CacheEntry, RemovalReason } from './lru-cache.js';
import type { UseLimits } from './options.js';

export type Kind = 'encrypt' | 'decrypt';
export type Materials = EncryptionMaterials | DecryptionMaterials;
/** One call to the underlying manager; `signal` fires when every caller waiting for it has left. */
export type Load = (signal: AbortSignal | undefined) => Promise<Materials>;

/** A cache entry made by this module: the public fields plus the manager's bookkeeping. */
export class Entry implements CacheEntry {
  messages = 0;
  bytes = 0;
  /** Refresh-ahead started (or tried) for this entry. */
  refreshing = false;
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly onRemove: (reason: RemovalReason) => void;

  constructor(
    readonly materials: Materials,
    readonly createdAt: number,
    readonly expiresAt: number,
    readonly kind: Kind,
    readonly contextKeys: readonly string[],
    removed: (e: Entry, reason: RemovalReason) => void,
  ) {
    this.onRemove = (reason) => removed(this, reason);
  }
}

/** The outcome of one underlying call, shared by the callers of its flight. */
export interface Loaded {
  readonly materials: Materials;
  /** Undefined when the data key must not be shared (no KDF): one caller gets the original. */
  readonly entry: Entry | undefined;
  /** False: serve this flight's callers, then zeroize instead of caching (materials with warnings). */
  readonly store: boolean;
  /** The uncacheable original was handed to a caller. */
  given: boolean;
  /** A caller did not fit within the limits: the entry is used up. */
  retired: boolean;
}

/** True if `m` is the kind of materials `kind` asks for. */
export function isKind(m: unknown, kind: Kind): m is Materials {
  return kind === 'encrypt' ? m instanceof EncryptionMaterials : m instanceof DecryptionMaterials;
}

/**
 * Takes one use of `e` for `kind`: a copy of its materials, counted against the limits (encrypt:
 * one message of `bytes`). Undefined, with nothing counted, when that use would pass a limit.
 */
export function takeUse(e: CacheEntry, kind: Kind, bytes: number, limits: UseLimits): Materials | undefined {
  if (kind === 'decrypt') return copyDecryptionMaterials(e.materials as DecryptionMaterials);
  if (e.messages + 1 > limits.maxMessagesEncrypted || e.bytes + bytes > limits.maxBytesEncrypted) return undefined;
  e.messages += 1;
  e.bytes += bytes;
  return copyEncryptionMaterials(e.materials as EncryptionMaterials);
}

/** An encrypt entry that has encrypted its last allowed message. */
export function usedUp(e: CacheEntry, kind: Kind, limits: UseLimits): boolean {
  return kind === 'encrypt' && e.messages >= limits.maxMessagesEncrypted;
}
