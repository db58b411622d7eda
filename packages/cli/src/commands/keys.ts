/**
 * `envelope keys`: create, replicate, list and rotate keys on a kms-local server, for demos and
 * tests. It talks to kms-local as any KMS client would — the AWS SDK over HTTP, SigV4-signed —
 * and every call has a deadline. Non-loopback endpoints are refused unless `--allow-remote`: the
 * command signs with kms-local's test credentials by default, and creating or rotating keys on a
 * real KMS costs money and changes production keys.
 */
import { parseArgs } from 'node:util';
import { regionOf } from '@envelope/keyring-kms';
import { UsageError, type CliIo } from '../io.js';
import { table } from './keys/key-info.js';
import { KmsLocalClient } from './keys/kms-local-client.js';
import { DEFAULT_KMS_LOCAL_ENDPOINT, DEFAULT_TIMEOUT_MS, checkAlias, oneRegion, target } from './keys/target.js';

export type { KeyInfo } from './keys/key-info.js';
export { DEFAULT_KMS_LOCAL_ENDPOINT } from './keys/target.js';

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
