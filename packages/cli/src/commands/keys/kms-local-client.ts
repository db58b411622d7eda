/**
 * The AWS SDK against one kms-local, for `envelope keys`: one client per region, one attempt and a
 * deadline per call, and every failure — silence, an unreachable endpoint, the service's
 * exceptions — mapped to a coded error (ENVELOPE_TIMEOUT, ENVELOPE_KMS).
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  type AliasListEntry,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { EnvelopeError } from '@envelope/core';
import { info, type KeyInfo } from './key-info.js';
import type { Target } from './target.js';

/** SDK clients per region against one kms-local; maps failures to coded errors. */
export class KmsLocalClient {
  readonly #t: Target;
  readonly #clients = new Map<string, KMSClient>();

  constructor(t: Target) {
    this.#t = t;
  }

  #client(region: string): KMSClient {
    let c = this.#clients.get(region);
    if (!c) {
      c = new KMSClient({
        region,
        endpoint: this.#t.endpoint,
        credentials: { ...this.#t.credentials },
        // One attempt (CreateKey is not idempotent); a request timeout that throws, and a
        // deadline on the whole call below.
        maxAttempts: 1,
        requestHandler: {
          requestTimeout: this.#t.timeoutMs,
          connectionTimeout: Math.min(this.#t.timeoutMs, 2000),
          throwOnRequestTimeout: true,
        },
      });
      this.#clients.set(region, c);
    }
    return c;
  }

  /** Runs one SDK call under the deadline. */
  async #call<T>(region: string, f: (client: KMSClient, options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
    try {
      return await f(this.#client(region), { abortSignal: AbortSignal.timeout(this.#t.timeoutMs) });
    } catch (e) {
      throw this.#error(e);
    }
  }

  #error(e: unknown): Error {
    const err = e as { name?: string; message?: string; code?: string; cause?: { code?: string }; $fault?: unknown };
    if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
      return new EnvelopeError('ENVELOPE_TIMEOUT', `${this.#t.endpoint} did not answer within ${this.#t.timeoutMs} ms`, { cause: e });
    }
    const code = err?.code ?? err?.cause?.code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      return new EnvelopeError(
        'ENVELOPE_KMS',
        `cannot reach kms-local at ${this.#t.endpoint} (${code}): is "npx envelope kms-local" running there? Set --endpoint or ENVELOPE_KMS_ENDPOINT`,
        { cause: e },
      );
    }
    if (err?.$fault !== undefined && err.name) {
      // An answer from the service: its exception name and message.
      let hint = '';
      if (['UnrecognizedClientException', 'InvalidSignatureException', 'IncompleteSignatureException'].includes(err.name)) {
        hint = ` (signed with ${this.#t.credentialSource}; kms-local accepts the pair it printed at start)`;
      }
      return new EnvelopeError('ENVELOPE_KMS', `${err.name}: ${err.message ?? ''}${hint}`, { cause: e });
    }
    return new EnvelopeError('ENVELOPE_KMS', `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`, { cause: e });
  }

  async create(region: string, o: { multiRegion: boolean; description: string | undefined; alias: string | undefined }): Promise<KeyInfo> {
    const created = await this.#call(region, (c, opt) =>
      c.send(new CreateKeyCommand({ MultiRegion: o.multiRegion, Description: o.description ?? '' }), opt),
    );
    const arn = created.KeyMetadata!.Arn!;
    if (o.alias !== undefined) {
      try {
        await this.#call(region, (c, opt) => c.send(new CreateAliasCommand({ AliasName: o.alias, TargetKeyId: arn }), opt));
      } catch (e) {
        const err = e as EnvelopeError;
        throw new EnvelopeError(err.code, `key ${arn} was created, but its alias was not: ${err.message}`, { cause: e });
      }
    }
    return this.describe(region, arn);
  }

  async replicate(region: string, key: string, to: string): Promise<KeyInfo> {
    const r = await this.#call(region, (c, opt) => c.send(new ReplicateKeyCommand({ KeyId: key, ReplicaRegion: to }), opt));
    return this.describe(to, r.ReplicaKeyMetadata!.Arn!);
  }

  async rotate(region: string, key: string, mode: 'now' | 'enable' | 'disable'): Promise<KeyInfo> {
    // Resolve aliases first: the rotation operations take a key id or ARN.
    const arn = (await this.#metadata(region, key)).Arn!;
    await this.#call(region, (c, opt) =>
      mode === 'now'
        ? c.send(new RotateKeyOnDemandCommand({ KeyId: arn }), opt)
        : mode === 'enable'
          ? c.send(new EnableKeyRotationCommand({ KeyId: arn }), opt)
          : c.send(new DisableKeyRotationCommand({ KeyId: arn }), opt),
    );
    return this.describe(region, arn);
  }

  async #metadata(region: string, key: string): Promise<KeyMetadata> {
    return (await this.#call(region, (c, opt) => c.send(new DescribeKeyCommand({ KeyId: key }), opt))).KeyMetadata!;
  }

  async #rotation(region: string, arn: string): Promise<boolean | null> {
    try {
      return (
        (await this.#call(region, (c, opt) => c.send(new GetKeyRotationStatusCommand({ KeyId: arn }), opt))).KeyRotationEnabled ?? null
      );
    } catch (e) {
      // A key pending deletion does not say; everything else is a real failure.
      if (e instanceof EnvelopeError && e.message.startsWith('KMSInvalidStateException')) return null;
      throw e;
    }
  }

  async #aliases(region: string, keyId?: string): Promise<AliasListEntry[]> {
    const out: AliasListEntry[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#call(region, (c, opt) =>
        c.send(new ListAliasesCommand({ Limit: 1000, ...(keyId ? { KeyId: keyId } : {}), ...(marker ? { Marker: marker } : {}) }), opt),
      );
      out.push(...(page.Aliases ?? []));
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    return out;
  }

  /** One key's facts: DescribeKey, its rotation status and its aliases. */
  async describe(region: string, key: string, aliases?: AliasListEntry[]): Promise<KeyInfo> {
    const m = await this.#metadata(region, key);
    const [rotation, own] = await Promise.all([
      this.#rotation(region, m.Arn!),
      aliases ? Promise.resolve(aliases) : this.#aliases(region, m.KeyId!),
    ]);
    return info(
      region,
      m,
      rotation,
      own.filter((a) => a.TargetKeyId === m.KeyId).map((a) => a.AliasName!),
    );
  }

  async list(
    regions: string[],
  ): Promise<{ keys: KeyInfo[]; aliases: { name: string; arn: string; region: string; targetKeyId: string }[] }> {
    const keys: KeyInfo[] = [];
    const aliases: { name: string; arn: string; region: string; targetKeyId: string }[] = [];
    for (const region of regions) {
      const arns: string[] = [];
      let marker: string | undefined;
      do {
        const page = await this.#call(region, (c, opt) =>
          c.send(new ListKeysCommand({ Limit: 1000, ...(marker ? { Marker: marker } : {}) }), opt),
        );
        arns.push(...(page.Keys ?? []).map((k) => k.KeyArn!));
        marker = page.Truncated ? page.NextMarker : undefined;
      } while (marker);
      const regionAliases = await this.#aliases(region);
      // A few at a time: kms-local is local, but there is no reason to open a socket per key.
      for (let i = 0; i < arns.length; i += 8) {
        keys.push(...(await Promise.all(arns.slice(i, i + 8).map((arn) => this.describe(region, arn, regionAliases)))));
      }
      aliases.push(...regionAliases.map((a) => ({ name: a.AliasName!, arn: a.AliasArn!, region, targetKeyId: a.TargetKeyId! })));
    }
    return { keys, aliases };
  }

  destroy(): void {
    for (const c of this.#clients.values()) c.destroy();
    this.#clients.clear();
  }
}
