import { KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KmsLocal } from '../src/index.js';

export function client(kms: KmsLocal, region: string, opts: { requestTimeout?: number; secret?: string; accessKeyId?: string; maxAttempts?: number } = {}): KMSClient {
  return new KMSClient({
    region,
    endpoint: kms.url,
    credentials: { accessKeyId: opts.accessKeyId ?? kms.credentials.accessKeyId, secretAccessKey: opts.secret ?? kms.credentials.secretAccessKey },
    maxAttempts: opts.maxAttempts ?? 1,
    // The SDK only warns on a request timeout unless told to throw: without this a silent
    // endpoint hangs the call forever.
    requestHandler: new NodeHttpHandler({ requestTimeout: opts.requestTimeout ?? 5000, connectionTimeout: 2000, throwOnRequestTimeout: true }),
  });
}
