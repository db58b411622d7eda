/** Shared test helpers: ARNs, EDKs, materials, SDK-shaped errors, a recording client supplier. */
import { KMSClient } from '@aws-sdk/client-kms';
import { DecryptionMaterials, EncryptionMaterials, SUITES, type EncryptedDataKey } from '@envelope/core';
import { fromSdkClient, type KmsClient } from '../src/index.js';

export const suite = SUITES.get(0x0478)!;
export const ACCOUNT = '111122223333';
export const arn = (region: string, id: string, account = ACCOUNT, partition = 'aws') =>
  `arn:${partition}:kms:${region}:${account}:key/${id}`;
export const edk = (keyArn: string, ct = 'ct', providerId = 'aws-kms'): EncryptedDataKey => ({
  providerId,
  providerInfo: Buffer.from(keyArn),
  ciphertext: Buffer.from(ct),
});
export const dm = (encryptionContext: Record<string, string> = { a: 'b' }) => new DecryptionMaterials({ suite, encryptionContext });
export const em = (encryptionContext: Record<string, string> = { a: 'b' }) => new EncryptionMaterials({ suite, encryptionContext });
/** An error shaped like the SDK's service exceptions. */
export const named = (name: string, status = 400) =>
  Object.assign(new Error(name), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
export const key32 = (fill: number) => new Uint8Array(32).fill(fill);
export const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

/** A supplier of real SDK clients (intercepted by aws-sdk-client-mock) that records the regions asked for. */
export function recordingSupplier(): { regions: string[]; supplier: (region: string) => KmsClient } {
  const regions: string[] = [];
  const cache = new Map<string, KmsClient>();
  return {
    regions,
    supplier: (region) => {
      regions.push(region);
      let c = cache.get(region);
      if (!c) cache.set(region, (c = fromSdkClient(new KMSClient({ region, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }))));
      return c;
    },
  };
}
