/**
 * `envelope dr-report`: what a multi-region keyring's regions can open of the messages stored
 * under some paths, from their headers alone (O(header) per file, never a body): messages and
 * bytes each region opens, the messages missing a region (to repair with `rewrap --mode
 * repair`), and with `--without R` the messages R's loss would make unreadable. `--verify`
 * proves the claim with real KMS calls: each data key unwrapped through the remaining regions
 * only, key commitment and header tag checked, no body decrypted (core's verifyHeader).
 */
import { parseArgs } from 'node:util';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseCommitmentPolicy, verifyHeader, type CommitmentPolicy, type ParsedHeader } from '@envelope/core';
import { UsageError, describeError, intFlag, type CliIo } from '../io.js';
import { parseContextPairs } from '../context-pairs.js';
import { CommandKeyrings } from '../keyring-config.js';
import { drKeyring, type DrKeyring } from '../dr-keyring.js';
import { HeaderScanner } from '../header-scan.js';
import { kindOf, walkTree, type TreeListing } from '../tree.js';
import { BatchTally, failureLines } from '../summary.js';
import { formatBytes } from '../progress.js';
import { CliAudit } from '../audit.js';

export const DR_REPORT_HELP = `Usage: envelope dr-report --keyring K [--json] [--without REGION]... [--verify] PATH...

Reports what the regions of K (an aws-kms-multi-region keyring configuration) can open of the
messages under PATH (files, or directories walked recursively; links inside them are skipped),
from each message's header alone: nothing past a header is read, and without --verify no key
is used. Files that are not envelope messages are skipped and counted.

Options:
      --keyring K               the multi-region keyring (file or inline JSON)
      --without REGION          suppose REGION lost: list the messages that no other region of K
                                opens (repeatable)
      --verify                  prove it: unwrap each message's data key through the remaining
                                regions only (real KMS calls; key commitment and header tag
                                checked; no body decrypted)
  -j, --concurrency N           --verify: messages in flight (default 8)
  -c, --context key=value       --verify: reproduced context for required-context messages (repeatable)
      --commitment-policy P     --verify: REQUIRE_ENCRYPT_REQUIRE_DECRYPT (default) or
                                REQUIRE_ENCRYPT_ALLOW_DECRYPT (legacy messages without key commitment)
      --json                    print the report as one JSON object:
                                {"messages","bytes","byRegion","bytesByRegion","missing":[{"path","regions"}],
                                 "unreadable":[{"path","without"}] (with --without), "skipped", "failed",
                                 "verify":{"through","verified","failed":[{"path","code","message"}]} (with --verify)}
      --audit F                 --verify: append the audit events of every key operation to F
  -h, --help                    show this help
Exit code 0 when the report was made (verify failures are in it); 1 on a bad argument or when a
file could not be read.

Examples:
  envelope dr-report --keyring mr.json data/
  envelope dr-report --keyring mr.json --without us-east-1 --verify --json data/ > dr.json
`;

/** dr-report's options. */
export const DR_REPORT_OPTIONS = {
  keyring: { type: 'string' },
  without: { type: 'string', multiple: true },
  verify: { type: 'boolean' },
  concurrency: { type: 'string', short: 'j' },
  context: { type: 'string', short: 'c', multiple: true },
  'commitment-policy': { type: 'string' },
  json: { type: 'boolean' },
  audit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The report (`--json` prints it as is). */
export interface DrReport {
  messages: number;
  bytes: number;
  byRegion: Record<string, number>;
  bytesByRegion: Record<string, number>;
  missing: { path: string; regions: string[] }[];
  unreadable?: { path: string; without: string[] }[];
  skipped: { path: string; reason: string }[];
  failed: { path: string; code: string; message: string }[];
  verify?: { through: string[]; verified: number; failed: { path: string; code: string; message: string }[] };
}

interface Verify {
  through: string[];
  commitmentPolicy: CommitmentPolicy;
  encryptionContext: Record<string, string> | undefined;
}

export async function drReportCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: DR_REPORT_OPTIONS });
  if (values.help) {
    io.stdout.write(DR_REPORT_HELP);
    return 0;
  }
  if (!values.keyring) throw new UsageError('--keyring is required (an aws-kms-multi-region keyring configuration)');
  if (positionals.length === 0) throw new UsageError('give files or directories to report on');
  const verifying = values.verify === true;
  if (!verifying) {
    for (const f of ['concurrency', 'context', 'commitment-policy', 'audit'] as const)
      if (values[f] !== undefined) throw new UsageError(`--${f} applies to --verify only`);
  }
  const concurrency = intFlag(values.concurrency, 'concurrency', 1, 256) ?? 8;
  const commitmentPolicy = parseCommitmentPolicy(values['commitment-policy'] ?? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT');
  const encryptionContext = parseContextPairs(values.context);

  const audit = values.audit ? await CliAudit.open(values.audit) : undefined;
  try {
    const k = await drKeyring(await new CommandKeyrings(io, audit?.sink).keyring(values.keyring), '--keyring');
    const lost = new Set<string>();
    for (const r of values.without ?? []) {
      if (!k.regions.includes(r)) throw new UsageError(`--without ${r}: not a region of the keyring (${k.regions.join(', ')})`);
      lost.add(r);
    }
    const through = k.regions.filter((r) => !lost.has(r));
    if (verifying && through.length === 0)
      throw new UsageError('--verify: --without names every region of the keyring; none is left to verify through');

    const report = emptyReport(k, values.without !== undefined);
    const listing = await expand(positionals);
    for (const s of listing.skipped) report.skipped.push({ path: s.input, reason: s.reason });
    for (const f of listing.failed) report.failed.push({ path: f.input, ...describeError(f.error) });
    const verify: Verify | undefined = verifying ? { through, commitmentPolicy, encryptionContext } : undefined;
    if (verify) report.verify = { through, verified: 0, failed: [] };
    await scan(listing, k, lost, report, verify, concurrency);
    sortReport(report);
    print(io, report, k, lost, values.json === true);
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    audit?.close();
  }
}

function emptyReport(k: DrKeyring, withWithout: boolean): DrReport {
  const zero = (): Record<string, number> => Object.fromEntries(k.regions.map((r) => [r, 0]));
  return {
    messages: 0,
    bytes: 0,
    byRegion: zero(),
    bytesByRegion: zero(),
    missing: [],
    ...(withWithout ? { unreadable: [] } : {}),
    skipped: [],
    failed: [],
  };
}

/** The files named (links followed: the user named them) and the files under the directories named (links skipped). */
async function expand(paths: string[]): Promise<TreeListing & { follow: Set<string> }> {
  const listing: TreeListing & { follow: Set<string> } = { files: [], skipped: [], failed: [], follow: new Set() };
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch (e) {
      listing.failed.push({ input: p, error: e });
      continue;
    }
    if (s.isDirectory()) await walkTree(p, listing, { stat: false });
    else if (s.isFile()) {
      listing.files.push({ path: p, rel: path.basename(p), size: s.size, mode: s.mode & 0o7777 });
      listing.follow.add(p);
    } else listing.skipped.push({ input: p, reason: kindOf(s) });
  }
  const seen = new Set<string>();
  listing.files = listing.files.filter((f) => !seen.has(f.path) && seen.add(f.path));
  return listing;
}

const NOT_A_MESSAGE = new Set(['ENVELOPE_NOT_A_MESSAGE', 'ENVELOPE_MALFORMED_MESSAGE', 'ENVELOPE_UNSUPPORTED']);

/**
 * Reads every header (synchronously: see header-scan.ts) and tallies its coverage; with
 * `verify`, up to `concurrency` messages are verified at once while the scan goes on.
 */
async function scan(
  listing: TreeListing & { follow: Set<string> },
  k: DrKeyring,
  lost: ReadonlySet<string>,
  report: DrReport,
  verify: Verify | undefined,
  concurrency: number,
): Promise<void> {
  const scanner = new HeaderScanner();
  const inFlight = new Set<Promise<void>>();
  const verifyTally = new BatchTally();
  for (const f of listing.files) {
    let header: ParsedHeader;
    let size: number;
    try {
      ({ header, size } = scanner.read(f.path, listing.follow.has(f.path)));
    } catch (e) {
      const d = describeError(e);
      if (NOT_A_MESSAGE.has(d.code)) report.skipped.push({ path: f.path, reason: 'not an envelope message' });
      else report.failed.push({ path: f.path, ...d });
      continue;
    }
    const { covered, missing } = k.coverage(header.encryptedDataKeys);
    report.messages++;
    report.bytes += size;
    for (const r of covered) {
      report.byRegion[r]!++;
      report.bytesByRegion[r]! += size;
    }
    if (missing.length > 0) report.missing.push({ path: f.path, regions: [...missing] });
    const remaining = covered.filter((r) => !lost.has(r));
    if (report.unreadable && covered.length > 0 && remaining.length === 0) report.unreadable.push({ path: f.path, without: [...covered] });
    if (!verify || remaining.length === 0) continue;
    // What the header says opens, proven through those regions only.
    const p = verifyHeader(header, {
      keyring: k.through(remaining),
      commitmentPolicy: verify.commitmentPolicy,
      encryptionContext: verify.encryptionContext,
      maxEncryptedDataKeys: 0xffff,
    }).then(
      () => void report.verify!.verified++,
      (e: unknown) => verifyTally.fail(f.path, e),
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (report.verify) report.verify.failed = verifyTally.failures.map((x) => ({ path: x.input, code: x.code, message: x.message }));
}

function sortReport(r: DrReport): void {
  const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  r.missing.sort(byPath);
  r.unreadable?.sort(byPath);
  r.skipped.sort(byPath);
  r.failed.sort(byPath);
  r.verify?.failed.sort(byPath);
}

function print(io: CliIo, r: DrReport, k: DrKeyring, lost: ReadonlySet<string>, json: boolean): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const lines: string[] = [`${r.messages} messages (${formatBytes(r.bytes)}) against ${k.regions.join(', ')}`];
  for (const region of k.regions)
    lines.push(`  ${region}: opens ${r.byRegion[region]} of ${r.messages} (${formatBytes(r.bytesByRegion[region]!)})`);
  lines.push(`missing a region: ${r.missing.length}`);
  for (const m of r.missing) lines.push(`  ${m.path}: ${m.regions.join(',')}`);
  if (r.unreadable) {
    lines.push(`without ${[...lost].join(', ')}: ${r.unreadable.length} unreadable`);
    for (const u of r.unreadable) lines.push(`  ${u.path}: only in ${u.without.join(',')}`);
  }
  if (r.verify) {
    const v = r.verify;
    lines.push(`verified through ${v.through.join(', ')}: ${v.verified} data keys unwrapped, ${v.failed.length} failed`);
    const tally = new BatchTally();
    for (const f of v.failed) tally.fail(f.path, { code: f.code, message: f.message });
    for (const l of failureLines(tally.summary())) lines.push(`  ${l}`);
  }
  if (r.skipped.length) {
    const counts = new Map<string, number>();
    for (const s of r.skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
    lines.push(`skipped ${r.skipped.length} (${[...counts].map(([reason, n]) => `${n} × ${reason}`).join(', ')})`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  for (const f of r.failed) io.stderr.write(`envelope: ${f.code}: ${f.path}: ${f.message}\n`);
}
