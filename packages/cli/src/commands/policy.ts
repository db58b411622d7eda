/** `envelope policy --keyring K`: the least-privilege IAM policy for a keyring configuration. */
import { parseArgs } from 'node:util';
import { createRegistry, splitConfig } from '@envelope/config';
import { UsageError, type CliIo } from '../io.js';
import { buildOptions, readKeyringConfig } from '../keyring-config.js';

export const POLICY_HELP = `Usage: envelope policy --keyring K [--require-context KEY]...

Prints the least-privilege IAM policy (JSON) for a keyring configuration: which KMS actions on
which key ARNs. With --require-context, every data-key statement requires those
encryption-context keys (kms:EncryptionContext:<key> must be present). A hierarchical keyring
adds dynamodb:GetItem on its key store's table and kms:Decrypt with the store's KMS key, only
under that store's logical name (its branch keys' context is the store's, not the message's).

Options:
  -k, --keyring K            keyring configuration: a JSON file or inline JSON
      --require-context KEY  require this encryption-context key in every statement (repeatable)
  -h, --help                 show this help

Examples:
  envelope policy --keyring keyring.json
  envelope policy --keyring keyring.json --require-context tenant > policy.json
`;

/** policy's options. */
export const POLICY_OPTIONS = {
  keyring: { type: 'string', short: 'k' },
  'require-context': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

type Action = 'kms:GenerateDataKey' | 'kms:Encrypt' | 'kms:Decrypt';
interface Statement {
  Sid: string;
  Effect: 'Allow';
  Action: string | string[];
  Resource: string[];
  Condition?: unknown;
}

export async function policyCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: POLICY_OPTIONS,
    strict: true,
  });
  if (values.help) {
    io.stdout.write(POLICY_HELP);
    return 0;
  }
  if (!values.keyring) throw new UsageError('--keyring is required');
  const read = await readKeyringConfig(values.keyring);
  const s = splitConfig(read.config);
  const registry = createRegistry(buildOptions(read, io));
  if (s.plugins.length) await registry.loadPlugins(s.plugins);
  const perAction = new Map<Action, Set<string>>();
  const extra = new Map<string, Statement>();
  for (const d of await registry.describe(s.keyring, s.keyringPath)) {
    for (const st of d.description.iam ?? []) {
      // Statements alike but for their resources merge (two keyrings on one store: one statement).
      const id = JSON.stringify([st.sid, [...st.actions].sort(), st.condition ?? null]);
      const have = extra.get(id);
      if (have) have.Resource = [...new Set([...have.Resource, ...st.resources])].sort();
      else
        extra.set(id, {
          Sid: st.sid,
          Effect: 'Allow',
          Action: st.actions.length === 1 ? st.actions[0]! : [...st.actions],
          Resource: [...new Set(st.resources)].sort(),
          ...(st.condition ? { Condition: st.condition } : {}),
        });
    }
    for (const k of d.description.kms ?? []) {
      for (const a of k.actions) {
        if (!perAction.has(a)) perAction.set(a, new Set());
        perAction.get(a)!.add(k.keyId);
      }
    }
  }
  const required = values['require-context'] ?? [];
  const condition = required.length
    ? { Null: Object.fromEntries(required.map((k) => [`kms:EncryptionContext:${k}`, 'false'])) }
    : undefined;
  const order: [Action, string][] = [
    ['kms:GenerateDataKey', 'GenerateDataKeys'],
    ['kms:Encrypt', 'WrapDataKeys'],
    ['kms:Decrypt', 'UnwrapDataKeys'],
  ];
  const statements: Statement[] = order
    .filter(([a]) => perAction.has(a))
    .map(([a, sid]) => ({
      Sid: sid,
      Effect: 'Allow' as const,
      Action: a,
      Resource: [...perAction.get(a)!].sort(),
      ...(condition ? { Condition: condition } : {}),
    }));
  // Sids are unique within a policy: number repeats (two key stores).
  const seen = new Map<string, number>();
  for (const st of extra.values()) {
    const n = (seen.get(st.Sid) ?? 0) + 1;
    seen.set(st.Sid, n);
    statements.push({ ...st, Sid: n === 1 ? st.Sid : `${st.Sid}${n}` });
  }
  io.stdout.write(`${JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2)}\n`);
  if (statements.length === 0) io.stderr.write('envelope: this configuration uses no KMS keys; no IAM permissions are needed\n');
  return 0;
}
