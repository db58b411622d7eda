/** The `envelope` command: dispatches to one module per subcommand. */
import { UsageError, defaultIo, reportError, type CliIo } from './io.js';
import { inspectCommand } from './commands/inspect.js';

type Command = (argv: string[], io: CliIo) => Promise<number>;

/** Subcommands, loaded lazily so `envelope inspect` does not load the KMS SDK. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  // encrypt/decrypt load @envelope/config (every keyring, the KMS SDK): only when asked for.
  encrypt: {
    summary: 'encrypt a file or stdin into one message',
    load: async () => (await import('./commands/encrypt.js')).encryptCommand,
  },
  decrypt: { summary: 'decrypt and authenticate one message', load: async () => (await import('./commands/encrypt.js')).decryptCommand },
  inspect: { summary: 'print a message header (no key needed)', load: async () => inspectCommand },
  rewrap: {
    summary: 're-key stored messages in place (header-only where the format allows)',
    load: async () => (await import('./commands/rewrap.js')).rewrapCommand,
  },
  'kms-local': {
    summary: 'run the local KMS-compatible server',
    load: async () => (await import('./commands/kms-local.js')).kmsLocalCommand,
  },
  keys: {
    summary: 'create, replicate, list and rotate keys on a running kms-local',
    load: async () => (await import('./commands/keys.js')).keysCommand,
  },
  'branch-keys': {
    summary: 'create the key store, and create and version branch keys (hierarchical keyring)',
    load: async () => (await import('./commands/branch-keys.js')).branchKeysCommand,
  },
  policy: {
    summary: 'print the least-privilege IAM policy for a keyring configuration',
    load: async () => (await import('./commands/policy.js')).policyCommand,
  },
  demo: {
    summary: 'multi-region failover on the embedded kms-local, with timings',
    load: async () => (await import('./commands/demo.js')).demoCommand,
  },
  'test-vectors': {
    summary: 'run AWS Encryption SDK decrypt test-vector manifests',
    load: async () => (await import('./commands/test-vectors.js')).testVectorsCommand,
  },
};

export const HELP = `Usage: envelope <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`)
  .join('\n')}

Run "envelope <command> --help" for a command's options and examples.
Errors are printed to stderr as "envelope: CODE: message"; the exit code is 1 on any error, 0 on success.
`;

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(HELP);
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (!command) return reportError(io, new UsageError(`unknown command ${JSON.stringify(name)}; run "envelope --help"`));
  try {
    return await (
      await command.load()
    )(rest, io);
  } catch (e) {
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      return reportError(io, new UsageError(e.message));
    }
    return reportError(io, e);
  }
}
