/**
 * `envelope rewrap`: re-key stored messages in place, crash-safely.
 *
 * Each file is rewrapped into a temporary file beside it, verified (the new header
 * authenticates with the target keyring), fsynced and renamed over the original, then the
 * directory is fsynced. An interrupted run leaves every file either old or new; rerunning skips
 * files that are already done and removes stale temporaries.
 */
import { parseArgs } from 'node:util';
import { createReadStream } from 'node:fs';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import {
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  EnvelopeError,
  StreamDecryptor,
  rewrapStream,
  type EncryptedDataKey,
  type Keyring,
  type RewrapMode,
} from '@envelope/core';
import { UsageError, parseContextPairs, type CliIo } from '../io.js';
import { readHeader } from '../files.js';
import { loadKeyringOnly } from '../keyring-config.js';
import { Progress, formatBytes } from '../progress.js';
import { edkKeyName } from '../edk.js';

export const REWRAP_HELP = `Usage: envelope rewrap --from K --to K [--to K]... [--mode replace|add|remove] FILE...|DIR...

Re-keys messages in place without re-encrypting their bodies (unsigned suites; signed suites
are decrypted and re-encrypted, and the summary says so).

  --from K              keyring that can decrypt the files now
  --to K                keyring(s) to wrap the data key under (replace, add)
  --mode M              replace (default): only the new keys; add: keep the old keys, add new;
                        remove: drop EDKs matching --remove-provider/--remove-key
  --remove-provider P   remove: EDK provider id to drop (e.g. aws-kms)
  --remove-key K        remove: EDK key (ARN or key name) to drop
  -c key=value          reproduced context for required-context messages
  --concurrency N       files in flight (default 4)
  --shard i/n           process only the i-th of n shards of the sorted file list
  --json                print the summary as JSON
Exit code 1 if any file failed; failed files are left untouched.

Examples:
  envelope rewrap --from old.json --to new.json data/
  envelope rewrap --from us-east.json --to eu-west.json --mode add --shard 2/8 data/
  envelope rewrap --from k.json --mode remove --remove-provider aws-kms --remove-key arn:aws:kms:... data/*.enc
`;

const TMP_SUFFIX = '.rewrap-tmp';

interface FileOutcome {
  file: string;
  status: 'rewrapped' | 'skipped' | 'failed';
  method?: 'header-only' | 're-encrypted';
  bytes: number;
  error?: string;
}

export async function rewrapCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string', multiple: true },
      mode: { type: 'string' },
      'remove-provider': { type: 'string' },
      'remove-key': { type: 'string' },
      context: { type: 'string', short: 'c', multiple: true },
      concurrency: { type: 'string' },
      shard: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(REWRAP_HELP);
    return 0;
  }
  const mode = (values.mode ?? 'replace') as RewrapMode;
  if (!['replace', 'add', 'remove'].includes(mode)) throw new UsageError('--mode must be replace, add or remove');
  if (!values.from) throw new UsageError('--from is required');
  if (mode !== 'remove' && !values.to?.length) throw new UsageError(`--to is required for --mode ${mode}`);
  if (positionals.length === 0) throw new UsageError('give files or directories to rewrap');
  const concurrency = values.concurrency ? Number(values.concurrency) : 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency expects a positive integer');

  const from = await keyringOf(values.from, io);
  const to = await Promise.all((values.to ?? []).map((t) => keyringOf(t, io)));
  const removeProvider = values['remove-provider'];
  const removeKey = values['remove-key'];
  if (mode === 'remove' && !removeProvider && !removeKey) throw new UsageError('--mode remove needs --remove-provider and/or --remove-key');
  const remove = (e: EncryptedDataKey): boolean =>
    (!removeProvider || e.providerId === removeProvider) && (!removeKey || edkKeyName(e) === removeKey);
  const encryptionContext = parseContextPairs(values.context);

  let files = await expand(positionals);
  if (values.shard) files = shard(files, values.shard);
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const progress = new Progress(io.stderr, files.length, totalBytes);
  const started = Date.now();
  const outcomes: FileOutcome[] = [];
  let doneBytes = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const outcome = await rewrapFile(files[i]!, sizes[i]!, { from, to, mode, remove, encryptionContext });
      outcomes.push(outcome);
      doneBytes += sizes[i]!;
      progress.update(outcomes.length, doneBytes);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(files.length, 1)) }, worker));
  progress.update(outcomes.length, doneBytes, true);
  progress.done();

  const count = (s: FileOutcome['status']) => outcomes.filter((o) => o.status === s).length;
  const summary = {
    files: files.length,
    rewrapped: count('rewrapped'),
    reencrypted: outcomes.filter((o) => o.method === 're-encrypted').length,
    skipped: count('skipped'),
    failed: count('failed'),
    bytes: totalBytes,
    seconds: (Date.now() - started) / 1000,
    failures: outcomes.filter((o) => o.status === 'failed').map((o) => ({ file: o.file, error: o.error })),
  };
  if (values.json) {
    io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    for (const f of summary.failures) io.stderr.write(`envelope: ${f.file}: ${f.error}\n`);
    io.stdout.write(
      `rewrapped ${summary.rewrapped} (${summary.reencrypted} re-encrypted: signed suite), skipped ${summary.skipped}, failed ${summary.failed} of ${summary.files} files; ${formatBytes(totalBytes)} in ${summary.seconds.toFixed(1)} s\n`,
    );
  }
  return summary.failed > 0 ? 1 : 0;
}

async function keyringOf(arg: string, io: CliIo): Promise<Keyring> {
  return loadKeyringOnly(arg, io);
}

/** Files named, and files under directories named (recursively), sorted; stale temporaries removed. */
async function expand(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p);
    if (s.isDirectory()) {
      for (const e of await readdir(p)) await walk(path.join(p, e));
    } else if (p.endsWith(TMP_SUFFIX)) {
      await unlink(p).catch(() => {}); // left by an interrupted run: the original is intact
    } else if (s.isFile()) {
      out.push(p);
    }
  };
  for (const p of paths) await walk(p);
  return [...new Set(out)].sort();
}

function shard(files: string[], spec: string): string[] {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || i < 1 || i > n) throw new UsageError('--shard expects i/n with 1 ≤ i ≤ n');
  return files.filter((_, k) => k % n === i - 1);
}

interface Plan {
  from: Keyring;
  to: Keyring[];
  mode: RewrapMode;
  remove: (e: EncryptedDataKey) => boolean;
  encryptionContext: Record<string, string> | undefined;
}

/** True if `keyring` can unwrap the message's data key and authenticate its header. */
async function headerOpensWith(file: string, keyring: Keyring, ec: Record<string, string> | undefined): Promise<boolean> {
  const d = new StreamDecryptor({ keyring, encryptionContext: ec, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' });
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) {
      await d.update(chunk as Buffer);
      if (d.messageInfo) return true;
    }
    return d.messageInfo !== undefined;
  } catch (e) {
    if (
      e instanceof EnvelopeError &&
      ['ENVELOPE_NO_DECRYPTABLE_KEY', 'ENVELOPE_AUTHENTICATION_FAILED', 'ENVELOPE_KEYRING_FAILURE', 'ENVELOPE_KMS'].includes(e.code)
    )
      return false;
    throw e;
  } finally {
    d.dispose();
  }
}

async function alreadyDone(file: string, p: Plan): Promise<boolean> {
  const limits = { maxEncryptedDataKeys: DEFAULT_MAX_ENCRYPTED_DATA_KEYS, maxFrameLength: 0xffffffff };
  if (p.mode === 'remove') return !(await readHeader(createReadStream(file), limits)).encryptedDataKeys.some(p.remove);
  for (const t of p.to) if (!(await headerOpensWith(file, t, p.encryptionContext))) return false;
  return p.mode === 'add' || !(await headerOpensWith(file, p.from, p.encryptionContext));
}

async function rewrapFile(file: string, size: number, p: Plan): Promise<FileOutcome> {
  try {
    if (await alreadyDone(file, p)) return { file, status: 'skipped', bytes: size };
  } catch (e) {
    return { file, status: 'failed', bytes: size, error: describe(e) };
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}${TMP_SUFFIX}`);
  const handle = await open(tmp, 'wx', 0o600);
  let method: FileOutcome['method'] = 'header-only';
  try {
    const t = rewrapStream({
      from: p.from,
      to: p.to,
      mode: p.mode,
      remove: p.remove,
      encryptionContext: p.encryptionContext,
      commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT',
    });
    t.on('rewrap', (r: { method: FileOutcome['method'] }) => (method = r.method));
    await pipeline(
      createReadStream(file),
      t,
      new Writable({
        write(chunk: Buffer, _e, cb) {
          handle.write(chunk).then(() => cb(), cb);
        },
      }),
    );
    await handle.sync();
    await handle.close();
    // Verify before replacing: the new header must authenticate with the keyring that should now open it.
    const verifier = p.mode === 'remove' ? p.from : p.to[0]!;
    if (!(await headerOpensWith(tmp, verifier, p.encryptionContext))) {
      throw new EnvelopeError('ENVELOPE_REWRAP_REFUSED', 'the rewrapped header did not verify with the target keyring');
    }
    await rename(tmp, file);
    await fsyncDir(path.dirname(file));
    return { file, status: 'rewrapped', method, bytes: size };
  } catch (e) {
    await handle.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    return { file, status: 'failed', bytes: size, error: describe(e) };
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

function describe(e: unknown): string {
  return e instanceof EnvelopeError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
}
