/**
 * What `encrypt` and `decrypt` share: their options, the checks made before any work, one file
 * or stdin/stdout, and `-r` over a tree. The keyring (materials manager) is built once per
 * command and used for every file.
 */
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MAX_FRAME_LENGTH, parseCommitmentPolicy } from '@envelope/core';
import { CliError, UsageError, debugEvents, intFlag, reportError, type CliIo } from '../io.js';
import { parseContextPairs } from '../context-pairs.js';
import { checkOutputPath } from '../output.js';
import { decryptJob, encryptJob, type JobResult, type JobSettings } from '../job.js';
import { loadMaterialsManager } from '../keyring-config.js';
import { openMetadataSink, warningLine, type MetadataSink } from '../metadata.js';
import { CliAudit } from '../audit.js';
import { Progress } from '../progress.js';
import { BatchTally, printSummary } from '../summary.js';
import { walkTree, type TreeListing } from '../tree.js';
import { closeFramePool, framePoolFor } from '../frame-workers.js';

/** Inputs at least this large (files given with --in) show a progress bar when stderr is a TTY. */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

export type Operation = 'encrypt' | 'decrypt';

/** Every option of encrypt and decrypt (each command refuses the other's few). */
export const CRYPT_OPTIONS = {
  keyring: { type: 'string', short: 'k' },
  in: { type: 'string', short: 'i' },
  out: { type: 'string', short: 'o' },
  context: { type: 'string', short: 'c', multiple: true },
  'commitment-policy': { type: 'string' },
  'max-encrypted-data-keys': { type: 'string' },
  recursive: { type: 'boolean', short: 'r' },
  suffix: { type: 'string' },
  concurrency: { type: 'string', short: 'j' },
  json: { type: 'boolean' },
  'metadata-output': { type: 'string' },
  audit: { type: 'string' },
  'no-overwrite': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  // encrypt
  suite: { type: 'string', short: 's' },
  'frame-length': { type: 'string' },
  // decrypt
  'max-frame-length': { type: 'string' },
  'release-unverified': { type: 'boolean' },
} as const;

export const ONLY: Record<Operation, readonly string[]> = {
  encrypt: ['suite', 'frame-length'],
  decrypt: ['max-frame-length', 'release-unverified'],
};

/** `ENVELOPE_MAX_BUFFERED_BYTES`: the most plaintext core may hold (a testing knob; see docs/cli.md). */
function maxBufferedBytes(io: CliIo): number | undefined {
  const v = (io.env ?? process.env)['ENVELOPE_MAX_BUFFERED_BYTES'];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError('ENVELOPE_MAX_BUFFERED_BYTES expects a positive integer');
  return n;
}

export async function cryptCommand(op: Operation, argv: string[], io: CliIo, help: string): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: CRYPT_OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    io.stdout.write(help);
    return 0;
  }
  for (const o of ONLY[op === 'encrypt' ? 'decrypt' : 'encrypt']) {
    if ((values as Record<string, unknown>)[o] !== undefined) throw new UsageError(`--${o} is not an option of ${op}`);
  }
  if (positionals.length)
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}; give the input with --in (a directory with -r)`);
  if (!values.keyring) throw new UsageError('--keyring is required');
  const concurrency = intFlag(values.concurrency, 'concurrency', 1, 256) ?? availableParallelism();
  const suffix = values.suffix ?? '.enc';
  if (!suffix || suffix.includes('/')) throw new UsageError('--suffix expects a non-empty name ending without "/"');
  const toStdout = !values.recursive && (values.out === undefined || values.out === '-');
  if (toStdout && values.json) throw new UsageError('--json needs --out (stdout carries the data)');
  if (toStdout && values['metadata-output'] === '-') throw new UsageError('--metadata-output - needs --out (stdout carries the data)');
  if (values['release-unverified'] && !toStdout) {
    throw new UsageError('--release-unverified is for stdout only; with --out the file appears once the signature verifies');
  }

  // Output problems, before any work.
  // Directories this command makes under --out; those still empty at the end are removed, so a
  // batch that fails (a dead region, a wrong key) leaves nothing behind.
  const made = new Set<string>();
  if (values.recursive) {
    if (await checkTreeArgs(values.in, values.out)) made.add(values.out!);
  } else await checkSingleArgs(op, io, values.in, values.out, values['no-overwrite'] === true);

  const flags = {
    encryptionContext: parseContextPairs(values.context),
    commitmentPolicy: values['commitment-policy'] === undefined ? undefined : parseCommitmentPolicy(values['commitment-policy']),
    maxEncryptedDataKeys: intFlag(values['max-encrypted-data-keys'], 'max-encrypted-data-keys', 1, 0xffff),
    suite: values.suite,
    // At most what decrypt accepts by default: a longer frame is buffered whole on both sides
    // (a 4 GiB frame took 4.2 GB of memory to encrypt 6 bytes) and no default decrypt opens it.
    frameLength: intFlag(values['frame-length'], 'frame-length', 1, DEFAULT_MAX_FRAME_LENGTH),
    maxFrameLength: intFlag(values['max-frame-length'], 'max-frame-length', 1, 0xffffffff),
    releaseUnverified: values['release-unverified'] === true,
    maxBufferedBytes: maxBufferedBytes(io),
    noOverwrite: values['no-overwrite'] === true,
    onEvent: debugEvents(io),
  };
  const audit = values.audit ? await CliAudit.open(values.audit) : undefined;
  const metadata = openMetadataSink(values['metadata-output'], io);
  try {
    // A large input file: frame workers start now and boot while the keyring loads.
    const parallel = values.recursive ? undefined : await framePoolFor(values.in, io.env ?? process.env);
    const settings: JobSettings = {
      ...flags,
      materialsManager: await loadMaterialsManager(values.keyring, io, audit?.sink),
      audit,
      parallel,
    };
    const job = op === 'encrypt' ? encryptJob : decryptJob;
    if (values.recursive) {
      return await runTree(op, job, settings, io, {
        in: values.in!,
        out: values.out!,
        suffix,
        concurrency,
        json: values.json === true,
        metadata,
        made,
      });
    }
    return await runSingle(job, settings, io, values.in, toStdout ? undefined : values.out, values.json === true, metadata);
  } finally {
    metadata?.close();
    audit?.close();
    await closeFramePool();
    await removeIfEmpty(made);
  }
}

/** Removes each directory (deepest first) that holds nothing, files or directories. */
async function removeIfEmpty(dirs: ReadonlySet<string>): Promise<void> {
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      await rmdir(d); // only an empty directory goes
    } catch {
      // not empty (or already gone): kept
    }
  }
}

async function checkSingleArgs(
  op: Operation,
  io: CliIo,
  input: string | undefined,
  output: string | undefined,
  noOverwrite: boolean,
): Promise<void> {
  if (input !== undefined && input !== '-') {
    const s = await stat(input).catch((e: NodeJS.ErrnoException) => {
      throw new CliError('ENVELOPE_IO', `--in ${input}: ${e.code === 'ENOENT' ? 'no such file' : `cannot read (${e.code})`}`);
    });
    if (s.isDirectory()) throw new UsageError(`--in ${input} is a directory; use -r --in DIR --out DIR2`);
  }
  if (output !== undefined && output !== '-') checkOutputPath(output, { noOverwrite });
  else if (op === 'encrypt' && (io.stdout as { isTTY?: boolean }).isTTY === true) {
    throw new CliError('ENVELOPE_TTY', 'refusing to write binary ciphertext to a terminal; use --out FILE or redirect stdout');
  }
}

/** Checks -r's directories; makes --out if absent (and says so). */
async function checkTreeArgs(input: string | undefined, output: string | undefined): Promise<boolean> {
  if (input === undefined || output === undefined || input === '-' || output === '-') {
    throw new UsageError('-r needs --in DIR and --out DIR2');
  }
  const s = await stat(input).catch((e: NodeJS.ErrnoException) => {
    throw new CliError('ENVELOPE_IO', `--in ${input}: ${e.code === 'ENOENT' ? 'no such directory' : `cannot read (${e.code})`}`);
  });
  if (!s.isDirectory()) throw new UsageError(`--in ${input} is not a directory (-r mirrors a tree)`);
  const rin = path.resolve(input);
  const rout = path.resolve(output);
  if (rout === rin || rout.startsWith(rin + path.sep)) throw new UsageError('--out must not be --in or inside it');
  const o = await stat(output).catch(() => undefined);
  if (o && !o.isDirectory()) throw new CliError('ENVELOPE_OUTPUT', `--out ${output}: exists and is not a directory`);
  if (!o) {
    checkOutputPath(output);
    await mkdir(output, { mode: 0o700 });
    return true;
  }
  return false;
}

type Job = (s: JobSettings, ends: Parameters<typeof encryptJob>[1]) => Promise<JobResult>;

async function runSingle(
  job: Job,
  s: JobSettings,
  io: CliIo,
  input: string | undefined,
  output: string | undefined,
  json: boolean,
  metadata: MetadataSink | undefined,
): Promise<number> {
  const inFile = input === undefined || input === '-' ? undefined : input;
  const tally = new BatchTally();
  const meter = inFile ? await progressFor(io, inFile) : undefined;
  try {
    const r = await job(meter ? { ...s, onBytes: meter.onBytes } : s, {
      input: inFile,
      followInput: true,
      stdin: io.stdin,
      output,
      stdout: io.stdout,
    });
    meter?.finish();
    for (const w of r.warnings) io.stderr.write(warningLine(r.record.input, w));
    metadata?.write(r.record);
    tally.done++;
    tally.warn(r.record.input, r.warnings);
    if (inFile) tally.bytes += (await stat(inFile)).size;
  } catch (e) {
    meter?.stop();
    if (!json) throw e;
    tally.fail(inFile ?? 'stdin', e);
    reportError(io, e);
  }
  if (json) printSummary(io, tally.summary(), '', true);
  return tally.failures.length ? 1 : 0;
}

/** A progress bar for one file of at least PROGRESS_MIN_BYTES, when stderr is a TTY. */
async function progressFor(io: CliIo, file: string): Promise<{ onBytes(n: number): void; finish(): void; stop(): void } | undefined> {
  if ((io.stderr as { isTTY?: boolean }).isTTY !== true) return undefined;
  const total = (await stat(file)).size;
  if (total < PROGRESS_MIN_BYTES) return undefined;
  const progress = new Progress(io.stderr, 1, total, 'file');
  let done = 0;
  return {
    onBytes(n) {
      done += n;
      progress.update(0, done);
    },
    finish() {
      progress.update(1, total, true);
      progress.done();
    },
    stop: () => progress.done(),
  };
}

interface TreeOptions {
  in: string;
  out: string;
  suffix: string;
  concurrency: number;
  json: boolean;
  metadata: MetadataSink | undefined;
  /** Directories made for outputs are added here (see removeIfEmpty). */
  made: Set<string>;
}

async function runTree(op: Operation, job: Job, s: JobSettings, io: CliIo, o: TreeOptions): Promise<number> {
  const listing: TreeListing = { files: [], skipped: [], failed: [] };
  await walkTree(o.in, listing);
  const tally = new BatchTally();
  for (const k of listing.skipped) tally.skip(k.input, k.reason);
  for (const f of listing.failed) tally.fail(f.input, f.error);
  const work = listing.files.filter((f) => {
    if (op === 'decrypt' && !f.rel.endsWith(o.suffix)) {
      tally.skip(f.path, `no ${o.suffix} suffix`);
      return false;
    }
    return true;
  });
  const totalBytes = work.reduce((a, f) => a + f.size, 0);
  const progress = new Progress(io.stderr, work.length, totalBytes);
  let doneFiles = 0;
  let doneBytes = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < work.length) {
      const f = work[next++]!;
      const rel = op === 'encrypt' ? f.rel + o.suffix : f.rel.slice(0, -o.suffix.length);
      const target = path.join(o.out, rel);
      try {
        await makeDirs(path.dirname(target), o.made);
        if (s.noOverwrite && (await stat(target).catch(() => undefined))) {
          tally.skip(f.path, 'output exists (--no-overwrite)');
        } else {
          const onBytes = (n: number): void => {
            doneBytes += n;
            progress.update(doneFiles, doneBytes);
          };
          const parallel = await framePoolFor(f.path, io.env ?? process.env);
          const r = await job({ ...s, onBytes, parallel }, { input: f.path, stdin: io.stdin, output: target, stdout: io.stdout });
          for (const w of r.warnings) if (!o.json) io.stderr.write(warningLine(r.record.input, w));
          o.metadata?.write(r.record);
          tally.warn(r.record.input, r.warnings);
          tally.done++;
          tally.bytes += f.size;
        }
      } catch (e) {
        tally.fail(f.path, e);
      }
      doneFiles++;
      progress.update(doneFiles, doneBytes);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, Math.max(work.length, 1)) }, worker));
  progress.update(doneFiles, doneBytes, true);
  progress.done();
  printSummary(io, tally.summary(), op === 'encrypt' ? 'encrypted' : 'decrypted', o.json);
  return tally.failures.length ? 1 : 0;
}

/** mkdir -p, remembering every directory it made (parents first), for removeIfEmpty. */
async function makeDirs(dir: string, made: Set<string>): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  // mkdir made `first` and everything below it down to `dir`.
  for (let d = dir; ; d = path.dirname(d)) {
    made.add(d);
    if (d === first || path.dirname(d) === d) break;
  }
}
