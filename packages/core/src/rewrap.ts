/**
 * Rewrap: re-key a stored message without rewriting its body.
 *
 * For unsigned suites the body does not depend on the header bytes (its AAD is the message id,
 * sequence numbers and lengths), so a new header — same message id, suite, context, frame
 * length and commit key, a new EDK list, a recomputed header tag — makes a valid message with
 * the body copied byte for byte: O(header), whatever the message size.
 *
 * Signed suites sign the header, and the signing key is gone after encryption, so they are
 * decrypted (signature verified) and re-encrypted with a fresh signing key; the result says so.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { EnvelopeError, invalidArgument, limitExceeded, malformed, throwIfAborted } from './errors.js';
import { NeedMoreData } from './bytes.js';
import { borrowDataKey, EncryptionMaterials } from './materials/materials.js';
import type { EncryptedDataKey } from './materials/encrypted-data-key.js';
import type { MaterialsManager } from './materials/materials-manager.js';
import { DefaultMaterialsManager } from './materials/default-materials-manager.js';
import type { Keyring } from './keyring/keyring.js';
import { PUBLIC_KEY_CONTEXT_KEY } from './encryption-context.js';
import { parseHeader, serializeHeaderBody, type MessageHeader, type ParsedHeader } from './format/header.js';
import { authOnlyContext, computeHeaderAuth } from './format/header-auth.js';
import { authenticateHeader } from './message/decrypt-session.js';
import { messageInfo, type MessageInfo } from './message/message-info.js';
import { checkDecryptOptions, type CommonOptions } from './options.js';
import { decrypt } from './decrypt.js';
import { encrypt } from './encrypt.js';
import { ByteQueue } from './message/byte-queue.js';

export type RewrapMode = 'replace' | 'add' | 'remove';

export interface RewrapOptions extends CommonOptions {
  /** Unwraps the data key (a keyring, or a materials manager). */
  from: Keyring | MaterialsManager;
  /** Wraps the data key anew (replace, add). Several keyrings each add their EDKs. */
  to?: Keyring | readonly Keyring[];
  /** Default `replace`. */
  mode?: RewrapMode;
  /** remove: which EDKs to drop. */
  remove?: (edk: EncryptedDataKey) => boolean;
  /**
   * remove: the keyring that must still be able to decrypt the result (default `from`); the
   * rewrap is refused if the remaining EDKs would not unwrap with it.
   */
  keep?: Keyring | MaterialsManager;
  /** Reproduced context for messages with required-context pairs (as for decrypt). */
  encryptionContext?: Record<string, string>;
  /** rewrapStream: the largest signed message re-encrypted in memory. Default 64 MiB. */
  maxSignedMessageBytes?: number;
}

export interface RewrapResult {
  /** The rewrapped message. For a header-only rewrap it is joined from `parts` on first access. */
  readonly message: Uint8Array;
  /**
   * Header-only rewraps: the new header and a view of the original body. Write them in order
   * (e.g. `writev`) to keep the whole rewrap O(header) — no copy of the body is made.
   */
  readonly parts?: readonly [header: Uint8Array, body: Uint8Array];
  /** `header-only`: body copied byte for byte. `re-encrypted`: signed suite, full decrypt + encrypt. */
  readonly method: 'header-only' | 're-encrypted';
  readonly messageInfo: MessageInfo;
  readonly added: number;
  readonly removed: number;
}

interface Checked {
  from: MaterialsManager;
  to: readonly Keyring[];
  mode: RewrapMode;
  remove: ((edk: EncryptedDataKey) => boolean) | undefined;
  keep: MaterialsManager;
  decryptOptions: ReturnType<typeof checkDecryptOptions>;
}

function asManager(k: Keyring | MaterialsManager, param: string): MaterialsManager {
  if (k && typeof (k as MaterialsManager).decryptMaterials === 'function') return k as MaterialsManager;
  if (k && typeof (k as Keyring).onDecrypt === 'function') return new DefaultMaterialsManager(k as Keyring);
  throw invalidArgument(param, 'expected a Keyring or MaterialsManager');
}

function check(o: RewrapOptions): Checked {
  if (!o || typeof o !== 'object') throw invalidArgument('options', 'expected { from, to, mode }');
  const mode = o.mode ?? 'replace';
  if (mode !== 'replace' && mode !== 'add' && mode !== 'remove') throw invalidArgument('mode', 'expected replace, add or remove');
  const to = o.to === undefined ? [] : Array.isArray(o.to) ? [...(o.to as Keyring[])] : [o.to as Keyring];
  if (mode !== 'remove' && to.length === 0) throw invalidArgument('to', `mode ${mode} needs at least one keyring`);
  for (const [i, k] of to.entries()) if (typeof k?.onEncrypt !== 'function') throw invalidArgument(`to[${i}]`, 'expected a Keyring');
  if (mode === 'remove' && typeof o.remove !== 'function')
    throw invalidArgument('remove', 'mode remove needs a predicate choosing the EDKs to drop');
  const from = asManager(o.from, 'from');
  return {
    from,
    to,
    mode,
    remove: o.remove,
    keep: o.keep === undefined ? from : asManager(o.keep, 'keep'),
    decryptOptions: checkDecryptOptions({ ...o, materialsManager: from, keyring: undefined }),
  };
}

/**
 * Builds the rewrapped header for an unsigned message: authenticates the old header with
 * `from`, wraps its data key with `to`, and returns the new header bytes.
 */
async function rewrapHeader(
  header: ParsedHeader,
  c: Checked,
): Promise<{ bytes: Uint8Array; header: MessageHeader; added: number; removed: number }> {
  const o = c.decryptOptions;
  const { materials, key } = await authenticateHeader(header, o);
  try {
    let edks: EncryptedDataKey[] = [...header.encryptedDataKeys];
    let added = 0;
    let removed = 0;
    if (c.mode === 'remove') {
      edks = edks.filter((e) => !c.remove!(e));
      removed = header.encryptedDataKeys.length - edks.length;
      if (edks.length === 0) throw new EnvelopeError('ENVELOPE_REWRAP_REFUSED', 'rewrap refused: it would remove every encrypted data key');
      await assertStillDecryptable(header, edks, c);
    } else {
      const fresh = new EncryptionMaterials({
        suite: header.suite,
        encryptionContext: materials.encryptionContext,
        requiredEncryptionContextKeys: materials.requiredEncryptionContextKeys,
      });
      try {
        fresh.setDataKey(borrowDataKey(materials));
        for (const k of c.to) {
          throwIfAborted(o.signal);
          await k.onEncrypt(fresh, { signal: o.signal });
        }
        const made = fresh.encryptedDataKeys;
        added = made.length;
        if (c.mode === 'replace') {
          removed = edks.length;
          edks = [...made];
        } else {
          edks.push(...made);
        }
      } finally {
        fresh.zeroize();
      }
    }
    if (edks.length > o.maxEncryptedDataKeys) {
      throw new EnvelopeError(
        'ENVELOPE_LIMIT_EXCEEDED',
        `rewrap would write ${edks.length} EDKs, above maxEncryptedDataKeys ${o.maxEncryptedDataKeys}`,
      );
    }
    const next: MessageHeader = { ...header, encryptedDataKeys: edks };
    const body = serializeHeaderBody(next);
    const auth = computeHeaderAuth(
      header.suite,
      header.version,
      key,
      body,
      authOnlyContext(materials.encryptionContext, materials.requiredEncryptionContextKeys),
    );
    const bytes = new Uint8Array(body.byteLength + auth.byteLength);
    bytes.set(body);
    bytes.set(auth, body.byteLength);
    return { bytes, header: next, added, removed };
  } finally {
    key.fill(0);
    materials.zeroize();
  }
}

/** remove mode: the `keep` keyring must still unwrap one of the remaining EDKs. */
async function assertStillDecryptable(header: ParsedHeader, edks: EncryptedDataKey[], c: Checked): Promise<void> {
  try {
    const m = await c.keep.decryptMaterials({
      suite: header.suite,
      encryptionContext: header.encryptionContext,
      encryptedDataKeys: edks,
      reproducedEncryptionContext: c.decryptOptions.encryptionContext,
      commitmentPolicy: c.decryptOptions.commitmentPolicy,
      signal: c.decryptOptions.signal,
    });
    m.zeroize();
  } catch (e) {
    if (e instanceof EnvelopeError && e.code === 'ENVELOPE_ABORTED') throw e;
    throw new EnvelopeError(
      'ENVELOPE_REWRAP_REFUSED',
      'rewrap refused: no remaining encrypted data key would decrypt with the keep keyring',
      { cause: e },
    );
  }
}

/**
 * Rewraps a whole message held in memory.
 *
 * @example
 * ```ts
 * // Add a disaster-recovery region's key to an existing message:
 * const { message } = await rewrap(old, { from: primaryKeyring, to: drKeyring, mode: 'add' });
 * ```
 */
export async function rewrap(message: Uint8Array, options: RewrapOptions): Promise<RewrapResult> {
  if (!(message instanceof Uint8Array)) throw invalidArgument('message', 'expected a Uint8Array');
  const c = check(options);
  const header = parseHeader(message, c.decryptOptions);
  if (header.suite.signature) return reencrypt(message, header, c);
  const r = await rewrapHeader(header, c);
  const parts = [r.bytes, message.subarray(header.length)] as const;
  let joined: Uint8Array | undefined;
  return {
    get message() {
      if (!joined) {
        joined = new Uint8Array(parts[0].byteLength + parts[1].byteLength);
        joined.set(parts[0]);
        joined.set(parts[1], parts[0].byteLength);
      }
      return joined;
    },
    parts,
    method: 'header-only',
    messageInfo: messageInfo(r.header),
    added: r.added,
    removed: r.removed,
  };
}

/** Signed suites: decrypt (verifying the signature), then encrypt afresh with the new EDK list. */
async function reencrypt(message: Uint8Array, header: ParsedHeader, c: Checked): Promise<RewrapResult> {
  const o = c.decryptOptions;
  const { plaintext, encryptionContext } = await decrypt(message, {
    materialsManager: c.from,
    encryptionContext: o.encryptionContext,
    commitmentPolicy: o.commitmentPolicy,
    maxEncryptedDataKeys: o.maxEncryptedDataKeys,
    maxFrameLength: o.maxFrameLength,
    signal: o.signal,
  });
  try {
    const ec: Record<string, string> = {};
    for (const [k, v] of Object.entries(encryptionContext)) if (k !== PUBLIC_KEY_CONTEXT_KEY) ec[k] = v;
    const keyring = new RewrapKeyring(header.encryptedDataKeys, c);
    const { ciphertext, messageInfo } = await encrypt(plaintext, {
      keyring,
      encryptionContext: ec,
      suite: header.suite.id,
      frameLength: header.frameLength || 4096,
      commitmentPolicy: header.suite.commitment ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT',
      maxEncryptedDataKeys: o.maxEncryptedDataKeys,
      signal: o.signal,
    });
    return { message: ciphertext, method: 're-encrypted', messageInfo, added: keyring.added, removed: keyring.removed };
  } finally {
    plaintext.fill(0);
  }
}

/**
 * The keyring a re-encryption uses. The old EDKs wrap the old data key and cannot be reused, so
 * for `add` (and `remove`) the `from` keyring wraps the new data key too — which needs a `from`
 * that can encrypt (not a discovery keyring). `remove` on a signed message is refused.
 */
class RewrapKeyring implements Keyring {
  added = 0;
  removed = 0;
  constructor(
    private readonly old: readonly EncryptedDataKey[],
    private readonly c: Checked,
  ) {}

  async onEncrypt(m: EncryptionMaterials, options?: { signal?: AbortSignal | undefined }): Promise<EncryptionMaterials> {
    if (this.c.mode === 'remove') {
      throw new EnvelopeError('ENVELOPE_REWRAP_REFUSED', 'mode remove on a signed message: use replace with the keyrings to keep');
    }
    if (this.c.mode === 'add') {
      const fromKeyring = (this.c.from as Partial<DefaultMaterialsManager>).keyring;
      if (!fromKeyring || typeof fromKeyring.onEncrypt !== 'function') {
        throw new EnvelopeError(
          'ENVELOPE_REWRAP_REFUSED',
          'mode add on a signed message re-encrypts, so "from" must be a keyring that can also encrypt',
        );
      }
      await fromKeyring.onEncrypt(m, options);
    }
    const before = m.hasDataKey ? m.encryptedDataKeys.length : 0;
    for (const k of this.c.to) await k.onEncrypt(m, options);
    this.added = m.encryptedDataKeys.length - before;
    this.removed = this.c.mode === 'replace' ? this.old.length : 0;
    return m;
  }

  async onDecrypt(): Promise<never> {
    throw new EnvelopeError('ENVELOPE_INTERNAL', 'rewrap keyring cannot decrypt');
  }
}

/**
 * Streaming rewrap: reads a message, writes the rewrapped message. For unsigned suites the body
 * streams through untouched after the new header. Signed suites are re-encrypted; their
 * plaintext is held until the old signature verifies (bounded like decrypt streams), because a
 * new signature must never vouch for unverified content.
 */
export function rewrapStream(options: RewrapOptions): Transform {
  const c = check(options);
  const maxSigned = options.maxSignedMessageBytes ?? 64 * 1024 * 1024;
  const queue = new ByteQueue();
  let phase: 'header' | 'body' | 'signed' = 'header';
  let result: Promise<void> | undefined;
  return new Transform({
    transform(chunk: Uint8Array, _enc, cb: TransformCallback) {
      if (phase === 'body') {
        cb(null, chunk);
        return;
      }
      queue.push(chunk);
      if (phase === 'signed') {
        cb(queue.length > maxSigned ? limitExceeded(`a signed message is re-encrypted in memory; it exceeds ${maxSigned} bytes`) : null);
        return;
      }
      let header: ParsedHeader;
      try {
        header = parseHeader(queue.contiguous(queue.length), c.decryptOptions, true);
      } catch (e) {
        cb(e instanceof NeedMoreData ? null : (e as Error));
        return;
      }
      if (header.suite.signature) {
        phase = 'signed';
        cb();
        return;
      }
      result = rewrapHeader(header, c).then((r) => {
        this.emit('rewrap', { method: 'header-only', messageInfo: messageInfo(r.header), added: r.added, removed: r.removed });
        this.push(r.bytes);
        queue.consume(header.length);
        if (queue.length) this.push(queue.contiguous(queue.length));
        queue.consume(queue.length);
        phase = 'body';
      });
      result.then(() => cb(), cb);
    },
    flush(cb: TransformCallback) {
      if (phase === 'header') {
        cb(malformed(queue.length === 0 ? 'empty message' : 'truncated message header'));
        return;
      }
      if (phase === 'body') {
        cb();
        return;
      }
      const whole = queue.contiguous(queue.length);
      rewrap(whole, options).then((r) => {
        this.emit('rewrap', { method: r.method, messageInfo: r.messageInfo, added: r.added, removed: r.removed });
        cb(null, r.message);
      }, cb);
    },
  });
}
