/**
 * `envelope keys`: create, replicate, list and rotate keys on a kms-local server, for demos and
 * tests. It talks to kms-local as any KMS client would — the AWS SDK over HTTP, SigV4-signed —
 * and every call has a deadline. Non-loopback endpoints are refused unless `--allow-remote`: the
 * command signs with kms-local's test credentials by default, and creating or rotating keys on a
 * real KMS costs money and changes production keys.
 */
import { parseArgs } from 'node:util';
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
import { DEFAULT_CREDENTIALS, isLoopback } from '@envelope/kms-local';
import { UsageError, type CliIo } from '../io.js';

/** kms-local's default address (`envelope kms-local` listens on port 4566). */
export const DEFAULT_KMS_LOCAL_ENDPOINT = 'http://127.0.0.1:4566';
const DEFAULT_TIMEOUT_MS = 5000;

/** `envelope keys --help`. */
export const KEYS_HELP = `Usage: envelope keys <command> [options]

Manage keys on a running kms-local (docs/kms-local.md), for demos and tests: through the AWS SDK
over HTTP, like any KMS client, every call under a deadline.

Commands:
  create [--multi-region] [--alias alias/NAME] [--description TEXT]
                     create a symmetric key in --region; prints its ARN
  replicate KEY --region R
                     replicate a multi-region key (its primary's ARN) into R; prints the replica's ARN
  list [--region R[,R...]]
                     keys with region, multi-region type, state, rotation and aliases
  rotate KEY [--enable | --disable]
                     rotate KEY's material now (RotateKeyOnDemand; earlier material still decrypts);
                     with --enable/--disable, only turn automatic rotation on or off

KEY is a key id, a key ARN, an alias name (alias/NAME) or an alias ARN.

Options:
  --endpoint URL           kms-local's address (default $ENVELOPE_KMS_ENDPOINT, else ${DEFAULT_KMS_LOCAL_ENDPOINT})
  --region R               region to talk to (default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1);
                           for replicate: the region to replicate into
  --access-key-id A        credentials to sign with (with --secret-access-key); default
  --secret-access-key S    $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY, else kms-local's default test pair
  --timeout-ms N           deadline for each call (default ${DEFAULT_TIMEOUT_MS})
  --allow-remote           allow an endpoint that is not a loopback address (see below)
  --json                   print JSON for scripts (the key, or {"keys":[...],"aliases":[...]})

Only loopback endpoints (127.0.0.0/8, ::1, localhost) are accepted unless --allow-remote: this is
a kms-local tool; it signs with kms-local's test credentials by default, and on a real KMS creating
and rotating keys costs money and changes production keys.

Examples:
  npx envelope kms-local                       # in another terminal; it prints ENVELOPE_KMS_ENDPOINT
  KEY=$(npx envelope keys create --multi-region --alias alias/orders)
  npx envelope keys replicate "$KEY" --region eu-west-1
  npx envelope keys list --region us-east-1,eu-west-1
  npx envelope keys rotate alias/orders
  npx envelope keys rotate alias/orders --enable --json
`;

/** One key as `--json` prints it (and as `list` prints each). */
export interface KeyInfo {
  keyId: string;
  arn: string;
  region: string;
  description: string;
  keyState: string;
  enabled: boolean;
  multiRegion: boolean;
  /** `PRIMARY` or `REPLICA` for a multi-region key, else null. */
  multiRegionKeyType: 'PRIMARY' | 'REPLICA' | null;
  /** The primary's ARN for a multi-region key, else null. */
  primaryArn: string | null;
  /** Regions of the replicas of a multi-region key. */
  replicaRegions: string[];
  /** Automatic rotation, as GetKeyRotationStatus reports it (null when the key's state hides it). */
  rotationEnabled: boolean | null;
  aliases: string[];
  creationDate: string | null;
}

type Sub = 'create' | 'replicate' | 'list' | 'rotate';
const SUBCOMMANDS: Record<Sub, { options: readonly string[]; key: boolean }> = {
  create: { options: ['multi-region', 'alias', 'description', 'region'], key: false },
  replicate: { options: ['region'], key: true },
  list: { options: ['region'], key: false },
  rotate: { options: ['enable', 'disable', 'region'], key: true },
};
const COMMON = ['endpoint', 'access-key-id', 'secret-access-key', 'timeout-ms', 'allow-remote', 'json', 'help'];

const OPTIONS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'access-key-id': { type: 'string' },
  'secret-access-key': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'allow-remote': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'multi-region': { type: 'boolean' },
  alias: { type: 'string' },
  description: { type: 'string' },
  enable: { type: 'boolean' },
  disable: { type: 'boolean' },
} as const;

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const ALIAS = /^alias\/[a-zA-Z0-9/_-]+$/;
const ARN = /^arn:[a-z-]+:kms:([a-z0-9-]+):\d{12}:(?:key|alias)\/.+$/;

/**
 * Runs `envelope keys <create|replicate|list|rotate>`; resolves to the exit code. Usage problems
 * throw {@link UsageError}; what kms-local answers, or its silence, throws a coded EnvelopeError
 * (`ENVELOPE_KMS`, `ENVELOPE_TIMEOUT`), which `main` prints as `envelope: CODE: message`.
 */
export async function keysCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  if (values.help) {
    io.stdout.write(KEYS_HELP);
    return 0;
  }
  const [name, ...args] = positionals;
  if (name === undefined) throw new UsageError('expected a command: create, replicate, list or rotate (see "envelope keys --help")');
  if (!Object.hasOwn(SUBCOMMANDS, name))
    throw new UsageError(`unknown keys command ${JSON.stringify(name)}: expected create, replicate, list or rotate`);
  const sub = name as Sub;
  const spec = SUBCOMMANDS[sub];
  for (const [option, value] of Object.entries(values)) {
    if (value !== undefined && !COMMON.includes(option) && !spec.options.includes(option))
      throw new UsageError(`keys ${sub} does not take --${option}`);
  }
  if (spec.key && args.length === 0)
    throw new UsageError(
      `keys ${sub} expects a key id, key ARN or alias (e.g. envelope keys ${sub} alias/orders${sub === 'replicate' ? ' --region eu-west-1' : ''})`,
    );
  if (args.length > (spec.key ? 1 : 0)) throw new UsageError(`keys ${sub}: unexpected argument ${JSON.stringify(args[spec.key ? 1 : 0])}`);

  const env = io.env ?? process.env;
  const kms = new KmsLocalClient(target(values, env));
  const defaultRegion = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const print = (human: string, json: unknown): void => {
    io.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : human);
  };
  try {
    switch (sub) {
      case 'create': {
        const region = oneRegion(values.region ?? defaultRegion);
        if (values.alias !== undefined) checkAlias(values.alias);
        const key = await kms.create(region, {
          multiRegion: values['multi-region'] === true,
          description: values.description,
          alias: values.alias,
        });
        print(`${key.arn}\n`, key);
        return 0;
      }
      case 'replicate': {
        if (values.region === undefined) throw new UsageError('keys replicate needs --region R, the region to replicate into');
        const to = oneRegion(values.region);
        const key = args[0]!;
        const replica = await kms.replicate(regionOf(key) ?? defaultRegion, key, to);
        print(`${replica.arn}\n`, replica);
        return 0;
      }
      case 'list': {
        const regions = (values.region ?? defaultRegion).split(',').map((r) => oneRegion(r.trim()));
        const listed = await kms.list([...new Set(regions)]);
        print(table(listed.keys, regions), listed);
        return 0;
      }
      case 'rotate': {
        if (values.enable && values.disable) throw new UsageError('give --enable or --disable, not both');
        const key = args[0]!;
        const mode = values.enable ? 'enable' : values.disable ? 'disable' : 'now';
        const info = await kms.rotate(regionOf(key) ?? oneRegion(values.region ?? defaultRegion), key, mode);
        const human =
          mode === 'now'
            ? `rotated ${info.arn}: new key material for new ciphertexts; earlier material still decrypts\n`
            : `automatic rotation ${mode === 'enable' ? 'enabled' : 'disabled'} for ${info.arn}${mode === 'enable' ? ' (kms-local records the setting; it rotates only on demand)' : ''}\n`;
        print(human, { ...info, rotatedNow: mode === 'now' });
        return 0;
      }
    }
  } finally {
    kms.destroy();
  }
}

interface Target {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Where the credentials came from, for error hints. */
  credentialSource: string;
  timeoutMs: number;
}

/** Endpoint, credentials and deadline from the flags and the environment; refuses remote endpoints unless allowed. */
function target(
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
  if (values['access-key-id'] !== undefined) {
    credentials = { accessKeyId: values['access-key-id'], secretAccessKey: values['secret-access-key']! };
    credentialSource = '--access-key-id/--secret-access-key';
  } else if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
    credentialSource = 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the environment';
  } else {
    credentials = { ...DEFAULT_CREDENTIALS };
    credentialSource = "kms-local's default test pair";
  }
  const timeout = values['timeout-ms'] ?? String(DEFAULT_TIMEOUT_MS);
  if (!/^\d{1,7}$/.test(timeout) || Number(timeout) < 1) throw new UsageError('--timeout-ms expects a positive number of milliseconds');
  return { endpoint, credentials, credentialSource, timeoutMs: Number(timeout) };
}

function oneRegion(r: string): string {
  if (!REGION.test(r)) throw new UsageError(`--region expects a region name such as us-east-1, got ${JSON.stringify(r)}`);
  return r;
}

function checkAlias(a: string): void {
  if (!ALIAS.test(a) || a.startsWith('alias/aws/'))
    throw new UsageError(`--alias expects alias/NAME (letters, digits, '/', '_', '-'; not alias/aws/…), got ${JSON.stringify(a)}`);
}

/** The region of a key or alias ARN; undefined for ids and alias names. */
function regionOf(key: string): string | undefined {
  return ARN.exec(key)?.[1];
}

/** SDK clients per region against one kms-local; maps failures to coded errors. */
class KmsLocalClient {
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

function info(region: string, m: KeyMetadata, rotationEnabled: boolean | null, aliases: string[]): KeyInfo {
  const mr = m.MultiRegionConfiguration;
  return {
    keyId: m.KeyId!,
    arn: m.Arn!,
    region,
    description: m.Description ?? '',
    keyState: m.KeyState ?? 'Unknown',
    enabled: m.Enabled === true,
    multiRegion: m.MultiRegion === true,
    multiRegionKeyType: mr?.MultiRegionKeyType === 'PRIMARY' || mr?.MultiRegionKeyType === 'REPLICA' ? mr.MultiRegionKeyType : null,
    primaryArn: mr?.PrimaryKey?.Arn ?? null,
    replicaRegions: (mr?.ReplicaKeys ?? []).map((r) => r.Region!),
    rotationEnabled,
    aliases: aliases.sort(),
    creationDate: m.CreationDate ? new Date(m.CreationDate).toISOString() : null,
  };
}

/** The human form of `list`: one row per key, columns aligned. */
function table(keys: KeyInfo[], regions: string[]): string {
  if (keys.length === 0) return `no keys in ${regions.join(', ')}\n`;
  const rows = [
    ['REGION', 'KEY', 'TYPE', 'STATE', 'ROTATION', 'ALIASES'],
    ...keys.map((k) => [
      k.region,
      k.arn,
      k.multiRegionKeyType === 'PRIMARY'
        ? `multi-region primary${k.replicaRegions.length ? ` (replicas: ${k.replicaRegions.join(', ')})` : ''}`
        : k.multiRegionKeyType === 'REPLICA'
          ? 'multi-region replica'
          : 'single-region',
      k.keyState,
      k.rotationEnabled === null ? '-' : k.rotationEnabled ? 'on' : 'off',
      k.aliases.join(', ') || '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
