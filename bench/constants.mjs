// The key and context every benchmark uses, ours and the SDK's alike.
export const KEY = Buffer.alloc(32, 42);
/** The same small context for every message. */
export const CONTEXT = { purpose: 'bench' };
export const MiB = 1024 * 1024;
export const KiB = 1024;
