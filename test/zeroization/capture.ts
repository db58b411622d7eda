/**
 * The zeroization audit's capture harness (issue #10), shared by test/zeroization-*.test.ts.
 * Import it first in each of those files: its vi.mock calls must be registered before the
 * packages under test load `node:crypto`, `node:fs/promises` and `@envelope/keyring-local`.
 *
 * How the buffers are captured, without changing production code:
 * - `node:crypto` is wrapped (vi.mock) for the modules under test. Each call records, tagged with
 *   the source file that made it: the key handed to createCipheriv/createDecipheriv by the frame
 *   codec and header authentication (the HKDF-derived message key); every HMAC output inside
 *   kdf.ts (HKDF's PRK and T(1)); the derived commit key compared by timingSafeEqual on decrypt;
 *   the raw AES keyring's decipher output (the unwrapped data key, or garbage from a failed tag);
 *   the raw RSA keyring's privateDecrypt output.
 * - The materials' prototype methods are wrapped: the buffer a keyring passes to `setDataKey` (its
 *   own copy, which it must wipe), the materials' private buffer behind it (via the internal
 *   `borrowDataKey` seam core already has for its tests), and every copy `getDataKey` hands out.
 * - KMS (zeroization-kms.test.ts): a middleware on the real @aws-sdk/client-kms client records
 *   each response's `Plaintext` (GenerateDataKey, Decrypt) from kms-local over HTTP.
 * - Config and keyring-env: the decoded wrapping-key temporaries (Buffer.from(base64) and key-file
 *   reads in those packages) and what they hand to RawAesKeyring.
 *
 * Each test resets the log, runs one path, and asserts every captured buffer is all zeros, and
 * that the kinds it expects were captured at all (so no test passes on an empty log). Failure
 * messages name the kind, the source file and the length of a live buffer, never its bytes.
 * Tests wait for late work (a key delivered after its caller left) on capture events and
 * event-loop turns, never on wall-clock sleeps.
 */
import { afterAll, beforeAll, beforeEach, expect, vi } from 'vitest';
import { DecryptionMaterials, EncryptionMaterials } from '@envelope/core';
import { borrowDataKey } from '../../packages/core/src/materials/materials.js';

// ------------------------------------------------------------------------------------- capture

export type Kind =
  /** The buffer a keyring (or copier) passes to setDataKey: its own copy, which it must wipe. */
  | 'setDataKey-arg'
  /** The materials' private data-key buffer. */
  | 'materials-own'
  /** A copy handed out by getDataKey. */
  | 'dek-copy'
  /** The HKDF-derived message key (cipher key of the frames and the header tag). */
  | 'derived-key'
  /** HKDF internals: the PRK and T(1). */
  | 'hkdf-internal'
  /** The commit key derived on decrypt, compared with the header's. */
  | 'commit-key'
  /** Raw AES keyring: decipher output (the unwrapped data key, or garbage from a failed tag). */
  | 'aes-unwrap'
  /** Raw RSA keyring: privateDecrypt output. */
  | 'rsa-unwrap'
  /** @aws-sdk/client-kms response Plaintext (GenerateDataKey, Decrypt). */
  | 'kms-sdk-plaintext'
  /** The plaintext a KmsOperations implementation returns to the multi-region keyring. */
  | 'kms-op-plaintext'
  /** A wrapping-key temporary decoded by config or keyring-env. */
  | 'wrapping-key-temp';

const hoisted = vi.hoisted(() => {
  const log: { kind: string; buf: Uint8Array; origin: string }[] = [];
  const state = { on: true };
  /** Tests waiting for a kind to be captured n times (distinct buffers): woken by record, never polled. */
  const waiters = new Set<{ kind: string; n: number; wake: () => void }>();
  const count = (kind: string): number => new Set(log.filter((c) => c.kind === kind).map((c) => c.buf)).size;
  /** `package/path` of the first stack frame inside packages/*\/src: who made this call. */
  function origin(): string {
    for (const line of (new Error().stack ?? '').split('\n')) {
      const m = /packages\/([a-z-]+)\/src\/([\w/.-]+?)\.[jt]s\b/.exec(line);
      if (m) return `${m[1]}/${m[2]}`;
    }
    return '';
  }
  function record(kind: string, buf: unknown, o: string = origin()): void {
    if (!(state.on && buf instanceof Uint8Array && buf.byteLength > 0)) return;
    log.push({ kind, buf, origin: o });
    for (const w of waiters) {
      if (w.kind === kind && count(kind) >= w.n) {
        waiters.delete(w);
        w.wake();
      }
    }
  }
  /** Resolves once `n` distinct buffers of `kind` have been captured (at once if they have). */
  function captures(kind: string, n = 1): Promise<void> {
    if (count(kind) >= n) return Promise.resolve();
    return new Promise((wake) => waiters.add({ kind, n, wake }));
  }
  return { log, state, origin, record, captures };
});

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const derivedSite = (o: string): boolean => o === 'core/format/frame' || o === 'core/format/header-auth';
  type Update = (...a: unknown[]) => Buffer;
  const createCipheriv = (...a: Parameters<typeof real.createCipheriv>) => {
    const o = hoisted.origin();
    if (derivedSite(o)) hoisted.record('derived-key', a[1], o);
    return real.createCipheriv(...a);
  };
  const createDecipheriv = (...a: Parameters<typeof real.createDecipheriv>) => {
    const o = hoisted.origin();
    if (derivedSite(o)) hoisted.record('derived-key', a[1], o);
    const d = real.createDecipheriv(...a);
    if (o === 'keyring-local/raw-aes-keyring') {
      const update = (d.update as Update).bind(d);
      (d as unknown as { update: Update }).update = (...u: unknown[]) => {
        const out = update(...u);
        hoisted.record('aes-unwrap', out, o);
        return out;
      };
    }
    return d;
  };
  const createHmac = (...a: Parameters<typeof real.createHmac>) => {
    const h = real.createHmac(...a);
    const o = hoisted.origin();
    if (o === 'core/crypto/kdf') {
      const digest = (h.digest as () => Buffer).bind(h);
      (h as unknown as { digest: () => Buffer }).digest = () => {
        const out = digest();
        hoisted.record('hkdf-internal', out, o);
        return out;
      };
    }
    return h;
  };
  const timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    const o = hoisted.origin();
    if (o === 'core/crypto/kdf') hoisted.record('commit-key', a, o);
    return real.timingSafeEqual(a, b);
  };
  const privateDecrypt = (...a: Parameters<typeof real.privateDecrypt>) => {
    const out = real.privateDecrypt(...a);
    const o = hoisted.origin();
    if (o === 'keyring-local/raw-rsa-keyring') hoisted.record('rsa-unwrap', out, o);
    return out;
  };
  const wrapped = { createCipheriv, createDecipheriv, createHmac, timingSafeEqual, privateDecrypt };
  return { ...real, ...wrapped, default: { ...real, ...wrapped } };
});

// What config and keyring-env hand to RawAesKeyring (a subclass that records, then constructs).
vi.mock('@envelope/keyring-local', async (importOriginal) => {
  const real = await importOriginal<typeof import('@envelope/keyring-local')>();
  class RecordingRawAesKeyring extends real.RawAesKeyring {
    constructor(o: ConstructorParameters<typeof real.RawAesKeyring>[0]) {
      const from = hoisted.origin();
      if (from.startsWith('config/') || from.startsWith('keyring-env/')) hoisted.record('wrapping-key-temp', o?.wrappingKey, from);
      super(o);
    }
  }
  return { ...real, RawAesKeyring: RecordingRawAesKeyring };
});

// Key files read by config and keyring-env.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = (async (...a: Parameters<typeof real.readFile>) => {
    const o = hoisted.origin();
    const out = await real.readFile(...a);
    if (o.startsWith('config/') || o.startsWith('keyring-env/')) hoisted.record('wrapping-key-temp', out, o);
    return out;
  }) as typeof real.readFile;
  // config's key files are read from the descriptor they were checked on (finding 15.9).
  const open = (async (...a: Parameters<typeof real.open>) => {
    const o = hoisted.origin();
    const fh = await real.open(...a);
    if (!o.startsWith('config/')) return fh;
    const read = fh.readFile.bind(fh) as (...r: unknown[]) => Promise<Buffer | string>;
    (fh as unknown as { readFile: typeof read }).readFile = async (...r: unknown[]) => {
      const out = await read(...r);
      hoisted.record('wrapping-key-temp', out, o);
      return out;
    };
    return fh;
  }) as typeof real.open;
  return { ...real, readFile, open, default: { ...real, readFile, open } };
});

const holder = Object.getPrototypeOf(EncryptionMaterials.prototype) as {
  setDataKey(this: EncryptionMaterials | DecryptionMaterials, key: Uint8Array): unknown;
  getDataKey(this: EncryptionMaterials | DecryptionMaterials): Uint8Array;
};
const realSetDataKey = holder.setDataKey;
const realGetDataKey = holder.getDataKey;

beforeAll(() => {
  holder.setDataKey = function (key) {
    hoisted.record('setDataKey-arg', key);
    const r = realSetDataKey.call(this, key);
    hoisted.record('materials-own', borrowDataKey(this));
    return r;
  };
  holder.getDataKey = function () {
    const copy = realGetDataKey.call(this);
    hoisted.record('dek-copy', copy);
    return copy;
  };
});
afterAll(() => {
  holder.setDataKey = realSetDataKey;
  holder.getDataKey = realGetDataKey;
});
beforeEach(() => {
  hoisted.log.length = 0;
  hoisted.state.on = true;
});

/** The capture log and switches (see the file's comment). */
export const cap = hoisted;

/** Waits for `kind` to be captured `n` times (an event from the capture hooks, not a poll). */
export function captures(kind: Kind, n = 1): Promise<void> {
  return hoisted.captures(kind, n);
}

export const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

/** Every captured buffer once (first kind wins), optionally of some kinds. */
export function captured(...kinds: Kind[]): { kind: string; buf: Uint8Array; origin: string }[] {
  const seen = new Set<Uint8Array>();
  const out = [];
  for (const c of hoisted.log) {
    if (seen.has(c.buf)) continue;
    seen.add(c.buf);
    if (kinds.length === 0 || kinds.includes(c.kind as Kind)) out.push(c);
  }
  return out;
}

export const describeLive = (cs: { kind: string; buf: Uint8Array; origin: string }[]): string[] =>
  cs.filter((c) => !isZero(c.buf)).map((c) => `${c.kind} from ${c.origin || '?'} (${c.buf.byteLength} bytes)`);

/**
 * Asserts that at least `atLeast[kind]` buffers of each kind were captured, and that every
 * captured buffer (but those `keep` selects) is all zeros.
 */
export function expectAllWiped(
  atLeast: Partial<Record<Kind, number>>,
  keep?: (c: { kind: string; buf: Uint8Array; origin: string }) => boolean,
): void {
  const all = captured();
  for (const [kind, n] of Object.entries(atLeast)) {
    // Distinct buffers seen as this kind (one buffer may be several: an unwrap output is also the setDataKey argument).
    const distinct = new Set(hoisted.log.filter((c) => c.kind === kind).map((c) => c.buf)).size;
    expect(distinct, `buffers of kind ${kind} captured`).toBeGreaterThanOrEqual(n!);
  }
  expect(describeLive(all.filter((c) => !keep?.(c))), 'live key material after use').toEqual([]);
}

/** Lets `n` turns of the event loop pass (late callbacks, socket reads): a count, not a duration. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}
