/**
 * Static AWS credentials from an environment map: the first link of the SDK's default chain,
 * written once for callers that hold an environment other than process.env (a configuration
 * registry's, a CLI invocation's).
 */

/** Static credentials, as the SDK takes them. */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN` when set), or
 * undefined when either is missing. Like the SDK, a set `AWS_PROFILE` wins over them (it
 * returns undefined then), so that the SDK's chain reads the profile.
 *
 * @example
 * ```ts
 * const credentials = credentialsFromEnv(process.env); // undefined: let the SDK's chain decide
 * ```
 */
export function credentialsFromEnv(env: Readonly<Record<string, string | undefined>>): StaticCredentials | undefined {
  if (env.AWS_PROFILE || !env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}
