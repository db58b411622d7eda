/** The data-key step both raw keyrings share on encrypt. */
import { randomBytes } from 'node:crypto';
import { wipe, type EncryptionMaterials } from '@envelope/core';

/**
 * Without a data key yet (this keyring is the generator), sets a fresh random one of the suite's
 * length; the local copy is wiped (the materials keep their own). Then returns a copy of the
 * materials' data key for wrapping, which the caller wipes.
 */
export function dataKeyToWrap(materials: EncryptionMaterials): Uint8Array {
  if (!materials.hasDataKey) {
    const fresh = randomBytes(materials.suite.keyLength);
    try {
      materials.setDataKey(fresh);
    } finally {
      wipe(fresh);
    }
  }
  return materials.getDataKey();
}
