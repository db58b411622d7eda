/**
 * `envelope branch-keys create-store|create|version --store S [--id ID] [-c key=value]...`: the
 * hierarchical keyring's key store (docs/hierarchical.md). S is a key-store configuration, as in
 * an `aws-kms-hierarchical` keyring's `keyStore` (a file or inline JSON; a whole hierarchical
 * keyring configuration works too: its `keyStore` is used). Endpoints come from the store's
 * `kmsEndpoint` / `dynamodbEndpoint`, else `AWS_ENDPOINT_URL_KMS` / `AWS_ENDPOINT_URL_DYNAMODB`.
 */
import { parseArgs } from 'node:util';
import { UsageError, type CliIo } from '../io.js';
import { parseContextPairs } from '../context-pairs.js';

export const BRANCH_KEYS_HELP = `Usage: envelope branch-keys <command> --store S [--id ID] [-c key=value]...

Manage the branch keys of a hierarchical keyring (aws-kms-hierarchical): a DynamoDB table with
the AWS key store's schema, each key wrapped by the store's KMS key. Wire-compatible with the
AWS Encryption SDK's BranchKeyStoreNode and the Material Providers Library's key store.

Commands:
  create-store       create the DynamoDB table (on-demand billing), or check that an existing one
                     has the key-store schema; prints the table's ARN either way
  create             create a branch key (its first version, active); prints its id as the last
                     line. With --id, at least one -c pair is required (the AWS key store's rule)
  version --id ID    rotate: a new active version (old versions still decrypt); prints it

Options:
  --store S          key-store configuration: a JSON file or inline JSON, e.g.
                     {"tableName":"branch-keys","logicalKeyStoreName":"branch-keys","kmsKeyArn":"arn:aws:kms:…:key/…"}
                     optional: "kmsEndpoint", "dynamodbEndpoint", "credentials", "replicaRegions",
                     "grantTokens", "requestTimeoutMs", "callTimeoutMs", "maxRetries"
  --id ID            branch key id (create: optional; version: required)
  -c key=value       custom encryption context bound to the new key (create), repeatable

Endpoints default to $AWS_ENDPOINT_URL_KMS and $AWS_ENDPOINT_URL_DYNAMODB (else AWS).

Examples:
  envelope branch-keys create-store --store store.json
  envelope branch-keys create --store store.json -c department=billing
  envelope branch-keys create --store store.json --id tenant-42 -c tenant=42
  envelope branch-keys version --store store.json --id tenant-42
`;

/** Reads --store: inline JSON if it starts with "{", else a file; a keyring configuration's keyStore is used. */
async function readStoreConfig(arg: string): Promise<unknown> {
  // config's reader: a JSON error gives the position only, as a store may hold credentials (15.5).
  const { readConfigArgument } = await import('@envelope/config');
  const v = (await readConfigArgument(arg, 'store')).config;
  const o = v as { type?: unknown; keyStore?: unknown; keyring?: { type?: unknown; keyStore?: unknown } } | null;
  if (o && o.type === 'aws-kms-hierarchical') return o.keyStore;
  if (o && o.keyring?.type === 'aws-kms-hierarchical') return o.keyring.keyStore;
  return v;
}

export async function branchKeysCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      store: { type: 'string', short: 's' },
      id: { type: 'string' },
      context: { type: 'string', short: 'c', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(BRANCH_KEYS_HELP);
    return 0;
  }
  const [sub, ...rest] = positionals;
  if (sub !== 'create-store' && sub !== 'create' && sub !== 'version')
    throw new UsageError(
      sub === undefined ? 'give a command: create-store, create or version' : `unknown branch-keys command ${JSON.stringify(sub)}`,
    );
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  if (!values.store) throw new UsageError('--store is required');
  const context = parseContextPairs(values.context);
  if (sub === 'create-store' && (values.id !== undefined || context)) throw new UsageError('create-store takes no --id or -c');
  if (sub === 'version' && context) throw new UsageError('version takes no -c: a branch key keeps the context it was created with');
  if (sub === 'version' && !values.id) throw new UsageError('version needs --id');
  if (sub === 'create' && values.id !== undefined && !context)
    throw new UsageError('create --id needs at least one -c key=value (a chosen id must come with an encryption context)');

  const { buildKeyStore } = await import('@envelope/config');
  const store = await buildKeyStore(await readStoreConfig(values.store), { env: io.env ?? process.env, at: 'store' });
  // Only the result, on stdout (scripts take it with $(…)); errors go to stderr as coded errors.
  if (sub === 'create-store') io.stdout.write(`${(await store.createStore()).tableArn}\n`);
  else if (sub === 'create')
    io.stdout.write(`${(await store.createKey({ branchKeyId: values.id, encryptionContext: context })).branchKeyId}\n`);
  else io.stdout.write(`${(await store.versionKey({ branchKeyId: values.id! })).version}\n`);
  return 0;
}
