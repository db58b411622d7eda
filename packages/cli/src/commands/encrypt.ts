/** `envelope encrypt` and `envelope decrypt`: streaming, files or stdin/stdout. */
import { parseArgs } from 'node:util';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptStream, encryptStream, parseCommitmentPolicy } from '@envelope/core';
import { UsageError, parseContextPairs, type CliIo } from '../io.js';
import { inputStream, outputStream } from '../files.js';
import { loadKeyring } from '../keyring-config.js';
import { Progress } from '../progress.js';

/** Inputs at least this large (files given with --in) show a progress bar when stderr is a TTY. */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

export const ENCRYPT_HELP = `Usage: envelope encrypt --keyring K [--in F] [--out F] [-c key=value]... [--suite 0x0478] [--frame-length N]

Encrypts into one AWS Encryption SDK message (format v2, key commitment; suite 0x0578 by default).
K is a keyring configuration: a JSON file path or inline JSON. Frames default to 65536 bytes.
With --in FILE of 4 MiB or more and stderr on a terminal, a progress bar is shown on stderr.

Examples:
  envelope encrypt --keyring '{"type":"raw-aes","namespace":"ns","name":"k1","key":"'$(head -c32 /dev/urandom | base64)'"}' --in a.txt --out a.enc
  cat a.txt | envelope encrypt --keyring keyring.json -c tenant=acme --suite 0x0478 > a.enc
`;

export const DECRYPT_HELP = `Usage: envelope decrypt --keyring K [--in F] [--out F] [-c key=value]... [--commitment-policy P]

Decrypts one message. Pairs given with -c must match the message's encryption context; for
messages written with required-encryption-context keys they are the reproduced pairs.
Output is written to a temporary file and renamed into place only once the whole message has
authenticated (with --out); to stdout, only authenticated frames are written.
With --in FILE of 4 MiB or more and stderr on a terminal, a progress bar is shown on stderr.

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
  const meter = await progressMeter(io, input);
  try {
    const stages = meter ? [inputStream(io, input), meter.counter, t, out.stream] : [inputStream(io, input), t, out.stream];
    await (pipeline as (...a: unknown[]) => Promise<void>)(...stages, { end: out.stream !== io.stdout });
    await out.commit();
    meter?.finish();
    return 0;
  } catch (e) {
    meter?.stop();
    await out.abort();
    throw e;
  }
}

/**
 * A byte counter in front of the codec that drives a progress bar on stderr: only for a file
 * input (its size is the total) of at least PROGRESS_MIN_BYTES, and only when stderr is a TTY.
 */
async function progressMeter(
  io: CliIo,
  input: string | undefined,
): Promise<{ counter: Transform; finish(): void; stop(): void } | undefined> {
  if (input === undefined || input === '-' || (io.stderr as { isTTY?: boolean }).isTTY !== true) return undefined;
  let total: number;
  try {
    total = (await stat(input)).size;
  } catch {
    return undefined; // the pipeline reports a missing or unreadable input itself
  }
  if (total < PROGRESS_MIN_BYTES) return undefined;
  const progress = new Progress(io.stderr, 1, total, 'file');
  let done = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.byteLength;
      progress.update(0, done);
      cb(null, chunk);
    },
  });
  return {
    counter,
    finish() {
      progress.update(1, total, true);
      progress.done();
    },
    stop: () => progress.done(),
  };
}
