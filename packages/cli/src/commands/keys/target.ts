/**
 * Where `envelope keys` talks and as whom: the endpoint (loopback only unless --allow-remote),
 * the credentials (flags, then the environment, then kms-local's test pair) and the deadline per
 * call; and the checks of region and alias arguments.
 */
import { credentialsFromEnv, type StaticCredentials } from '@envelope/keyring-kms';
import { DEFAULT_CREDENTIALS, isLoopback } from '@envelope/kms-local';
import { UsageError } from '../../io.js';

/** kms-local's default address (`envelope kms-local` listens on port 4566). */
export const DEFAULT_KMS_LOCAL_ENDPOINT = 'http://127.0.0.1:4566';
/** Deadline for each call unless --timeout-ms. */
export const DEFAULT_TIMEOUT_MS = 5000;

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const ALIAS = /^alias\/[a-zA-Z0-9/_-]+$/;

/** The resolved connection settings. */
export interface Target {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Where the credentials came from, for error hints. */
  credentialSource: string;
  timeoutMs: number;
}

/** Endpoint, credentials and deadline from the flags and the environment; refuses remote endpoints unless allowed. */
export function target(
  values: { endpoint?: string; 'access-key-id'?: string; 'secret-access-key'?: string; 'timeout-ms'?: string; 'allow-remote'?: boolean },
  env: NodeJS.ProcessEnv,
): Target {
  const endpoint = values.endpoint ?? (env.ENVELOPE_KMS_ENDPOINT || DEFAULT_KMS_LOCAL_ENDPOINT);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint expects a URL such as ${DEFAULT_KMS_LOCAL_ENDPOINT}, got ${JSON.stringify(endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--endpoint expects an http or https URL, got ${JSON.stringify(endpoint)}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!values['allow-remote'] && host !== 'localhost' && !isLoopback(host)) {
    throw new UsageError(
      `${endpoint} is not a loopback address; "envelope keys" is a kms-local tool: it signs with kms-local's test credentials by default, ` +
        'and on a real KMS creating and rotating keys costs money and changes production keys. Pass --allow-remote if this is a kms-local on another host',
    );
  }
  if ((values['access-key-id'] === undefined) !== (values['secret-access-key'] === undefined)) {
    throw new UsageError('give both --access-key-id and --secret-access-key, or neither');
  }
  let credentials: Target['credentials'];
  let credentialSource: string;
  let fromEnv: StaticCredentials | undefined;
  if (values['access-key-id'] !== undefined) {
    credentials = { accessKeyId: values['access-key-id'], secretAccessKey: values['secret-access-key']! };
    credentialSource = '--access-key-id/--secret-access-key';
  } else if ((fromEnv = credentialsFromEnv({ ...env, AWS_PROFILE: undefined }))) {
    // keyring-kms's reading of the variables; AWS_PROFILE is left out because this tool signs with
    // static credentials only (it reads no profile), so a set profile must not hide the pair.
    credentials = fromEnv;
    credentialSource = 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the environment';
  } else {
    credentials = { ...DEFAULT_CREDENTIALS };
    credentialSource = "kms-local's default test pair";
  }
  const timeout = values['timeout-ms'] ?? String(DEFAULT_TIMEOUT_MS);
  if (!/^\d{1,7}$/.test(timeout) || Number(timeout) < 1) throw new UsageError('--timeout-ms expects a positive number of milliseconds');
  return { endpoint, credentials, credentialSource, timeoutMs: Number(timeout) };
}

/** A region argument, checked. */
export function oneRegion(r: string): string {
  if (!REGION.test(r)) throw new UsageError(`--region expects a region name such as us-east-1, got ${JSON.stringify(r)}`);
  return r;
}

/** An --alias argument, checked (alias/NAME, not alias/aws/…). */
export function checkAlias(a: string): void {
  if (!ALIAS.test(a) || a.startsWith('alias/aws/'))
    throw new UsageError(`--alias expects alias/NAME (letters, digits, '/', '_', '-'; not alias/aws/…), got ${JSON.stringify(a)}`);
}
