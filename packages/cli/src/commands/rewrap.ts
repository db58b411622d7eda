/**
 * `envelope rewrap`: re-key stored messages in place, crash-safely.
 *
 * Each file is rewrapped into a private temporary beside it (temp.ts), verified (the new header
 * authenticates with the target keyring), given the original's mode, fsynced and renamed over
 * the original, then the directory is fsynced. An interrupted run leaves every file either old
 * or new; a rerun skips files that are already done and removes the temporaries a killed run
 * left. Unsigned suites are rewrapped header-only; signed suites are decrypted (the old
 * signature verified) and re-encrypted, streamed through the temporary.
 *
 * Links are never followed: a symbolic link named on the command line is refused, one found in a
 * directory is skipped and counted. Files that are not envelope messages are skipped and counted
 * (failures with --strict).
 */
import { parseArgs } from 'node:util';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  EnvelopeError,
  StreamDecryptor,
  parseCommitmentPolicy,
  rewrapStream,
  type CommitmentPolicy,
  type EncryptedDataKey,
  type Keyring,
  type MessageInfo,
  type ParsedHeader,
  type RewrapMode,
} from '@envelope/core';
import { CliError, UsageError, debugEvents, intFlag, type CliIo } from '../io.js';
import { parseContextPairs } from '../context-pairs.js';
import { openInputFile, readHeader } from '../files.js';
import { CommandKeyrings } from '../keyring-config.js';
import { Progress } from '../progress.js';
import { edkKeyName } from '../edk.js';
import { openFileOutput } from '../output.js';
import { pathFilter } from '../glob.js';
import { kindOf, walkTree, type TreeFile, type TreeListing } from '../tree.js';
import { BatchTally, printSummary } from '../summary.js';
import { messageRecord, openMetadataSink } from '../metadata.js';
import { CliAudit } from '../audit.js';
import { drKeyring, type DrKeyring } from '../dr-keyring.js';
import { assertRepaired, repairStep } from '../repair.js';

export const REWRAP_HELP = `Usage: envelope rewrap --from K --to K [--to K]... [--mode replace|add|remove] [options] FILE...|DIR...
       envelope rewrap --mode repair --from K [options] FILE...|DIR...

Re-keys messages in place without re-encrypting their bodies (unsigned suites; signed suites
are decrypted, their signature verified, and re-encrypted, streamed at any size). Each file is
written to a private temporary, verified, given the original's mode, fsynced and renamed over
the original: an interrupted run leaves every file old or new, and a rerun finishes the job.
Directories are walked recursively; symbolic links are never followed (refused when named,
skipped and counted inside a directory). Files that are not envelope messages are skipped.

Options:
      --from K                  keyring that can decrypt the files now
      --to K                    keyring(s) to wrap the data key under (replace, add; repeatable)
      --mode M                  replace (default): only the new keys; add: keep the old keys, add new;
                                remove: drop EDKs matching --remove-provider/--remove-key
                                (an error when nothing matches in any file);
                                repair: K is a multi-region keyring; add EDKs for each of K's regions
                                a message lacks (no --to; what "envelope dr-report" lists as missing)
      --remove-provider P       remove: EDK provider id to drop (e.g. aws-kms)
      --remove-key K            remove: EDK key (ARN or key name) to drop
  -c, --context key=value       reproduced context for required-context messages (repeatable)
      --commitment-policy P     REQUIRE_ENCRYPT_REQUIRE_DECRYPT (default); REQUIRE_ENCRYPT_ALLOW_DECRYPT
                                also re-keys legacy messages without key commitment (an explicit opt-in)
      --include GLOB            only files matching GLOB (repeatable; "*.enc", "2024/**")
      --exclude GLOB            not files matching GLOB (repeatable)
      --strict                  a file that is not an envelope message is a failure, not skipped
  -j, --concurrency N           files in flight (default 4)
      --shard i/n               process only the i-th of n shards of the sorted file list
      --json                    print the summary as JSON (counts, failures grouped by cause, skips)
      --metadata-output F|-     append one JSON line per rewrapped message to F (0600), or - for stdout
      --audit F                 append the audit events of every key operation to F as JSON lines
  -h, --help                    show this help
Exit code 1 if any file failed; failed files are left untouched.

Examples:
  envelope rewrap --from old.json --to new.json data/
  envelope rewrap --from us-east.json --to eu-west.json --mode add --shard 2/8 --include '*.enc' data/
  envelope rewrap --mode repair --from multi-region.json data/
  envelope rewrap --from k.json --mode remove --remove-provider aws-kms --remove-key arn:aws:kms:... data/
`;

interface Plan {
  from: Keyring;
  /** repair: K, seen for disaster recovery. */
  dr: DrKeyring | undefined;
  to: Keyring[];
  mode: RewrapMode | 'repair';
  remove: (e: EncryptedDataKey) => boolean;
  encryptionContext: Record<string, string> | undefined;
  commitmentPolicy: CommitmentPolicy;
  onEvent: ((event: string, detail: string) => void) | undefined;
}

type Outcome =
  | { status: 'rewrapped'; method: 'header-only' | 're-encrypted'; info: MessageInfo; matched: boolean }
  | { status: 'skipped'; reason: string; matched: boolean };

/** rewrap's options. */
export const REWRAP_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string', multiple: true },
  mode: { type: 'string' },
  'remove-provider': { type: 'string' },
  'remove-key': { type: 'string' },
  context: { type: 'string', short: 'c', multiple: true },
  'commitment-policy': { type: 'string' },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  strict: { type: 'boolean' },
  concurrency: { type: 'string', short: 'j' },
  shard: { type: 'string' },
  json: { type: 'boolean' },
  'metadata-output': { type: 'string' },
  audit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function rewrapCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: REWRAP_OPTIONS,
  });
  if (values.help) {
    io.stdout.write(REWRAP_HELP);
    return 0;
  }
  const mode = (values.mode ?? 'replace') as RewrapMode | 'repair';
  if (!['replace', 'add', 'remove', 'repair'].includes(mode)) throw new UsageError('--mode must be replace, add, remove or repair');
  if (!values.from) throw new UsageError('--from is required');
  if (mode === 'repair' && values.to?.length)
    throw new UsageError('--mode repair takes no --to: it adds the regions of --from (a multi-region keyring) that a message lacks');
  if (mode !== 'remove' && mode !== 'repair' && !values.to?.length) throw new UsageError(`--to is required for --mode ${mode}`);
  const removeProvider = values['remove-provider'];
  const removeKey = values['remove-key'];
  if (mode === 'remove' && !removeProvider && !removeKey) throw new UsageError('--mode remove needs --remove-provider and/or --remove-key');
  if (positionals.length === 0) throw new UsageError('give files or directories to rewrap');
  if (values.json && values['metadata-output'] === '-')
    throw new UsageError('--metadata-output - and --json both write to stdout; give a file');
  const concurrency = intFlag(values.concurrency, 'concurrency', 1, 256) ?? 4;
  const commitmentPolicy = parseCommitmentPolicy(values['commitment-policy'] ?? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT');
  const encryptionContext = parseContextPairs(values.context);

  const tally = new BatchTally();
  let files = await expand(positionals, pathFilter(values.include, values.exclude), tally);
  if (values.shard) files = shard(files, values.shard);

  const audit = values.audit ? await CliAudit.open(values.audit) : undefined;
  const metadata = openMetadataSink(values['metadata-output'], io);
  try {
    // One health registry for the whole batch, --from and --to alike (keyring-config.ts).
    const keyrings = new CommandKeyrings(io, audit?.sink);
    const from = await keyrings.keyring(values.from, 'from');
    const to: Keyring[] = [];
    for (const t of values.to ?? []) to.push(await keyrings.keyring(t, 'to'));
    const plan: Plan = {
      from,
      dr: mode === 'repair' ? await drKeyring(from, '--from') : undefined,
      to,
      mode,
      remove: (e) => (!removeProvider || e.providerId === removeProvider) && (!removeKey || edkKeyName(e) === removeKey),
      encryptionContext,
      commitmentPolicy,
      onEvent: debugEvents(io),
    };
    const totalBytes = files.reduce((a, f) => a + f.size, 0);
    const progress = new Progress(io.stderr, files.length, totalBytes);
    let doneFiles = 0;
    let doneBytes = 0;
    let matched = 0;
    let reencrypted = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length) {
        const f = files[next++]!;
        try {
          const o = await rewrapFile(f, plan, values.strict === true);
          if (o.matched) matched++;
          if (o.status === 'skipped') tally.skip(f.path, o.reason);
          else {
            tally.done++;
            tally.bytes += f.size;
            if (o.method === 're-encrypted') reencrypted++;
            metadata?.write({ ...messageRecord('rewrap', f.path, f.path, o.info, undefined, []), method: o.method });
          }
        } catch (e) {
          tally.fail(f.path, explain(e));
        }
        doneFiles++;
        doneBytes += f.size;
        progress.update(doneFiles, doneBytes);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(files.length, 1)) }, worker));
    progress.update(doneFiles, doneBytes, true);
    progress.done();
    if (mode === 'remove' && matched === 0 && files.length > 0) {
      const what = [removeProvider && `provider ${removeProvider}`, removeKey && `key ${removeKey}`].filter(Boolean).join(' and ');
      tally.fail(
        positionals.join(' '),
        new CliError('ENVELOPE_REWRAP_NO_MATCH', `--mode remove: no encrypted data key with ${what} in any of ${files.length} files`),
      );
    }
    const summary = tally.summary({ rewrapped: tally.done, reencrypted });
    printSummary(io, summary, 'rewrapped', values.json === true, reencrypted ? `${reencrypted} re-encrypted: signed suite` : undefined);
    return summary.failed > 0 ? 1 : 0;
  } finally {
    metadata?.close();
    audit?.close();
  }
}

/**
 * The files named and the files under the directories named (recursively), sorted, filtered by
 * the globs. A symbolic link named is a failure; links and special files inside directories are
 * skipped and counted; stale temporaries of killed runs are removed on the way.
 */
async function expand(paths: string[], keep: (rel: string) => boolean, tally: BatchTally): Promise<TreeFile[]> {
  const listing: TreeListing = { files: [], skipped: [], failed: [] };
  for (const p of paths) {
    let s;
    try {
      s = await lstat(p);
    } catch (e) {
      listing.failed.push({ input: p, error: e });
      continue;
    }
    if (s.isSymbolicLink()) {
      listing.failed.push({
        input: p,
        error: new CliError('ENVELOPE_SYMLINK', 'is a symbolic link; rewrap does not follow links (name the file it points to)'),
      });
    } else if (s.isDirectory()) await walkTree(p, listing, { sweep: true });
    else if (s.isFile()) listing.files.push({ path: p, rel: path.basename(p), size: s.size, mode: s.mode & 0o7777 });
    else listing.skipped.push({ input: p, reason: kindOf(s) });
  }
  for (const k of listing.skipped) tally.skip(k.input, k.reason);
  for (const f of listing.failed) tally.fail(f.input, f.error);
  const seen = new Set<string>();
  return listing.files
    .filter((f) => keep(f.rel.split(path.sep).join('/')) && !seen.has(f.path) && seen.add(f.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function shard(files: TreeFile[], spec: string): TreeFile[] {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || i < 1 || i > n) throw new UsageError('--shard expects i/n with 1 ≤ i ≤ n');
  return files.filter((_, k) => k % n === i - 1);
}

/** True if `keyring` can unwrap the message's data key and authenticate its header. */
async function headerOpensWith(file: string, keyring: Keyring, p: Plan): Promise<boolean> {
  const d = new StreamDecryptor({ keyring, encryptionContext: p.encryptionContext, commitmentPolicy: p.commitmentPolicy });
  try {
    for await (const chunk of openInputFile(file)) {
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

const LIMITS = { maxEncryptedDataKeys: 0xffff, maxFrameLength: 0xffffffff };

/** One file's rewrap: how, and the keyrings that must each open the result before it replaces the original. */
interface Step {
  mode: RewrapMode;
  to: Keyring[];
  prove: Keyring[];
}

async function rewrapFile(f: TreeFile, p: Plan, strict: boolean): Promise<Outcome> {
  let header: ParsedHeader;
  try {
    header = await readHeader(openInputFile(f.path), LIMITS);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENVELOPE_NOT_A_MESSAGE' || code === 'ENVELOPE_MALFORMED_MESSAGE' || code === 'ENVELOPE_UNSUPPORTED') {
      if (strict)
        throw code === 'ENVELOPE_NOT_A_MESSAGE'
          ? e
          : new CliError('ENVELOPE_NOT_A_MESSAGE', `not an envelope message (${(e as Error).message})`);
      return { status: 'skipped', reason: 'not an envelope message', matched: false };
    }
    throw e;
  }
  const edks = header.encryptedDataKeys;
  const matched = p.mode === 'remove' && edks.some(p.remove);
  let step: Step;
  if (p.mode === 'repair') {
    const r = repairStep(p.dr!, header);
    if (!r) return { status: 'skipped', reason: 'already done', matched };
    step = { mode: r.mode, to: r.to, prove: r.proveRegions.map((region) => p.dr!.through([region])) };
  } else {
    if (p.mode === 'remove' ? !matched : await alreadyDone(f.path, p)) return { status: 'skipped', reason: 'already done', matched };
    step = { mode: p.mode, to: p.to, prove: [p.mode === 'remove' ? p.from : p.to[0]!] };
  }

  const out = openFileOutput(f.path, { mode: f.mode });
  p.onEvent?.('temp', out.temp);
  try {
    let event: { method: 'header-only' | 're-encrypted'; messageInfo: MessageInfo } | undefined;
    const t = rewrapStream({
      from: p.from,
      to: step.to,
      mode: step.mode,
      remove: p.remove,
      encryptionContext: p.encryptionContext,
      commitmentPolicy: p.commitmentPolicy,
    });
    t.on('rewrap', (r: { method: 'header-only' | 're-encrypted'; messageInfo: MessageInfo }) => (event = r));
    await pipeline(openInputFile(f.path, 1024 * 1024), t, out.writer);
    // Verify before replacing: the new header must authenticate with the keyring(s) that should now open it
    // (repair: K covers it in every region by its header, and each region it lacked opens it on its own).
    if (p.dr) assertRepaired(p.dr, await readHeader(openInputFile(out.temp), LIMITS));
    for (const verifier of step.prove) {
      if (!(await headerOpensWith(out.temp, verifier, p))) {
        throw new EnvelopeError('ENVELOPE_REWRAP_REFUSED', 'the rewrapped header did not verify with the target keyring');
      }
    }
    if (!event) throw new CliError('ENVELOPE_INTERNAL', 'rewrap ended without a result');
    out.commit();
    p.onEvent?.('renamed', f.path);
    return { status: 'rewrapped', method: event.method, info: event.messageInfo, matched };
  } catch (e) {
    out.abort();
    throw e;
  }
}

async function alreadyDone(file: string, p: Plan): Promise<boolean> {
  for (const t of p.to) if (!(await headerOpensWith(file, t, p))) return false;
  return p.mode === 'add' || !(await headerOpensWith(file, p.from, p));
}

/** Says what to do about a legacy message refused by the default commitment policy (15.i1). */
function explain(e: unknown): unknown {
  if ((e as { code?: string }).code === 'ENVELOPE_COMMITMENT_POLICY') {
    return new CliError(
      'ENVELOPE_COMMITMENT_POLICY',
      'a legacy message without key commitment: rewrap re-keys it only with --commitment-policy REQUIRE_ENCRYPT_ALLOW_DECRYPT',
      { cause: e },
    );
  }
  return e;
}
