/**
 * The `envelope` command: dispatches to one module per subcommand, each loaded only when asked
 * for, so `--help`, `--version` and light commands do not load the keyrings or the KMS SDK.
 */
import { readFileSync } from 'node:fs';
import { UsageError, defaultIo, reportError, type CliIo } from './io.js';

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  encrypt: {
    summary: 'encrypt a file, stdin or a tree (-r) into messages',
    load: async () => (await import('./commands/encrypt.js')).encryptCommand,
  },
  decrypt: {
    summary: 'decrypt and authenticate a message, or a tree (-r)',
    load: async () => (await import('./commands/decrypt.js')).decryptCommand,
  },
  inspect: {
    summary: 'print a message header (no key needed)',
    load: async () => (await import('./commands/inspect.js')).inspectCommand,
  },
  rewrap: {
    summary: 're-key stored messages in place (header-only where the format allows)',
    load: async () => (await import('./commands/rewrap.js')).rewrapCommand,
  },
  'dr-report': {
    summary: 'what each region of a multi-region keyring opens of stored messages (headers only)',
    load: async () => (await import('./commands/dr-report.js')).drReportCommand,
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
       envelope --version

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`)
  .join('\n')}

Run "envelope <command> --help" for a command's options and examples.
Errors are printed to stderr as "envelope: ENVELOPE_<CODE>: message"; the exit code is 1 on any
error, 130 or 143 when stopped by SIGINT or SIGTERM (nothing partial is left behind), else 0.
`;

/** The CLI's version (from its package.json: beside dist/, or two up from the bundle in dist/bundle/). */
export function version(): string {
  const file = import.meta.url.includes('/dist/bundle/') ? '../../package.json' : '../package.json';
  const pkg = JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs one command line; resolves to the exit code. Never throws. */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(HELP);
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`envelope ${version()}\n`);
    return 0;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}; run "envelope --help"`);
    return await (
      await command.load()
    )(rest, io);
  } catch (e) {
    return reportError(io, e);
  }
}

/**
 * The real process (bin/envelope.js): as {@link main}, and SIGINT / SIGTERM remove every
 * temporary and exit 130 / 143 (kms-local handles its own signals: it shuts down cleanly).
 */
export async function cli(argv: string[]): Promise<number> {
  if (argv[0] !== 'kms-local') {
    const { installProcessGuards } = await import('./temp.js');
    installProcessGuards();
  }
  // A closed stdout (EPIPE) reaches the command through its write callbacks, as a coded error;
  // without a listener the stream's 'error' event would also end the process uncoded.
  process.stdout.on('error', () => {});
  return main(argv);
}
