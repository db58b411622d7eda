// KMS path: messages per second through a KMS keyring (ours vs the SDK's) against kms-local.
// A named placeholder until the case is written; the suite reports it as not available.
export const id = 'kms';
export const title = 'KMS path (1 KiB through a KMS keyring on kms-local)';

export async function run({ log }) {
  log('KMS path: not available yet');
  return { unavailable: 'not available yet' };
}
