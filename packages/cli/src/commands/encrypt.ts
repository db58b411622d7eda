/** `envelope encrypt` and `envelope decrypt`: streaming, files or stdin/stdout. */
import { parseArgs } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { decryptStream, encryptStream, parseCommitmentPolicy } from '@envelope/core';
import { UsageError, parseContextPairs, type CliIo } from '../io.js';
import { inputStream, outputStream } from '../files.js';
import { loadKeyring } from '../keyring-config.js';

export const ENCRYPT_HELP = `Usage: envelope encrypt --keyring K [--in F] [--out F] [-c key=value]... [--suite 0x0478] [--frame-length N]

Encrypts into one AWS Encryption SDK message (format v2, key commitment; suite 0x0578 by default).
K is a keyring configuration: a JSON file path or inline JSON.

Examples:
  envelope encrypt --keyring '{"type":"raw-aes","namespace":"ns","name":"k1","key":"'$(head -c32 /dev/urandom | base64)'"}' --in a.txt --out a.enc
  cat a.txt | envelope encrypt --keyring keyring.json -c tenant=acme --suite 0x0478 > a.enc
`;

export const DECRYPT_HELP = `Usage: envelope decrypt --keyring K [--in F] [--out F] [-c key=value]... [--commitment-policy P]

Decrypts one message. Pairs given with -c must match the message's encryption context; for
messages written with required-encryption-context keys they are the reproduced pairs.
Output is written to a temporary file and renamed into place only once the whole message has
authenticated (with --out); to stdout, only authenticated frames are written.

Examples:
  envelope decrypt --keyring keyring.json --in a.enc --out a.txt
  envelope decrypt --keyring keyring.json -c tenant=acme < a.enc > a.txt
`;

const COMMON = {
  keyring: { type: 'string', short: 'k' },
  in: { type: 'string', short: 'i' },
  out: { type: 'string', short: 'o' },
  context: { type: 'string', short: 'c', multiple: true },
  'commitment-policy': { type: 'string' },
  'max-encrypted-data-keys': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function intFlag(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} expects an integer`);
  return n;
}

export async function encryptCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...COMMON, suite: { type: 'string' }, 'frame-length': { type: 'string' } },
    strict: true,
  });
  if (values.help) {
    io.stdout.write(ENCRYPT_HELP);
    return 0;
  }
  if (!values.keyring) throw new UsageError('--keyring is required');
  const keyring = await loadKeyring(values.keyring, io);
  const t = encryptStream({
    ...keyring,
    encryptionContext: parseContextPairs(values.context),
    suite: values.suite,
    frameLength: intFlag(values['frame-length'], 'frame-length'),
    commitmentPolicy: values['commitment-policy'] === undefined ? undefined : parseCommitmentPolicy(values['commitment-policy']),
    maxEncryptedDataKeys: intFlag(values['max-encrypted-data-keys'], 'max-encrypted-data-keys'),
  });
  return run(io, values.in, values.out, t);
}

export async function decryptCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...COMMON, 'max-frame-length': { type: 'string' } }, strict: true });
  if (values.help) {
    io.stdout.write(DECRYPT_HELP);
    return 0;
  }
  if (!values.keyring) throw new UsageError('--keyring is required');
  const keyring = await loadKeyring(values.keyring, io);
  const t = decryptStream({
    ...keyring,
    encryptionContext: parseContextPairs(values.context),
    commitmentPolicy: values['commitment-policy'] === undefined ? undefined : parseCommitmentPolicy(values['commitment-policy']),
    maxEncryptedDataKeys: intFlag(values['max-encrypted-data-keys'], 'max-encrypted-data-keys'),
    maxFrameLength: intFlag(values['max-frame-length'], 'max-frame-length'),
  });
  return run(io, values.in, values.out, t);
}

async function run(io: CliIo, input: string | undefined, output: string | undefined, t: NodeJS.ReadWriteStream): Promise<number> {
  const out = await outputStream(io, output);
  try {
    await pipeline(inputStream(io, input), t, out.stream, { end: out.stream !== io.stdout });
    await out.commit();
    return 0;
  } catch (e) {
    await out.abort();
    throw e;
  }
}
