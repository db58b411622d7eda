/** Rewrap's options and their validation at the edge. */
import { invalidArgument } from '../errors.js';
import type { EncryptedDataKey } from '../materials/encrypted-data-key.js';
import type { MaterialsManager } from '../materials/materials-manager.js';
import { DefaultMaterialsManager } from '../materials/default-materials-manager.js';
import type { Keyring } from '../keyring/keyring.js';
import type { MessageInfo } from '../message/message-info.js';
import { checkDecryptOptions, type CheckedDecryptOptions, type CommonOptions } from '../options.js';

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
  /** Largest frame (or non-framed body) accepted, as for decrypt. Default 64 MiB. */
  maxFrameLength?: number;
  /** Largest header accepted, as for decrypt. Default 1 MiB. */
  maxHeaderLength?: number;
}

/** What the rewrap of one message did (the `'rewrap'` event of {@link rewrapStream} carries it too). */
export interface RewrapSummary {
  /** `header-only`: body copied byte for byte. `re-encrypted`: signed suite, decrypted and encrypted afresh. */
  readonly method: 'header-only' | 're-encrypted';
  /** The new message's facts. */
  readonly messageInfo: MessageInfo;
  /** EDKs added. */
  readonly added: number;
  /** EDKs removed. */
  readonly removed: number;
}

export interface CheckedRewrap {
  readonly from: MaterialsManager;
  readonly to: readonly Keyring[];
  readonly mode: RewrapMode;
  readonly remove: ((edk: EncryptedDataKey) => boolean) | undefined;
  readonly keep: MaterialsManager;
  readonly decryptOptions: CheckedDecryptOptions;
}

function asManager(k: Keyring | MaterialsManager, param: string): MaterialsManager {
  if (k && typeof (k as MaterialsManager).decryptMaterials === 'function') return k as MaterialsManager;
  if (k && typeof (k as Keyring).onDecrypt === 'function') return new DefaultMaterialsManager(k as Keyring);
  throw invalidArgument(param, 'expected a Keyring or MaterialsManager');
}

export function checkRewrapOptions(o: RewrapOptions): CheckedRewrap {
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
