// Issue 18.3, fail fast: every batch command (rewrap, encrypt -r, decrypt -r, dr-report
// --verify) shares one health registry across its files, so once the target region's breaker
// opens, later files fail at once instead of each waiting out its deadline. Shown by what the
// blackholed region received (kms-local counts every request, unanswered ones too): a handful
// of calls for 120 files, not 120. Also: one summary line per cause, not one per file, and
// nothing changed on disk. (The wall time of a 120-file batch is measured in bench/fail-fast.mjs,
// not here.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startKmsLocal } from '@envelope/kms-local';
import { aesConfig, run, scratch } from './helpers.js';

const FILES = 120;
const DEAD = 'eu-west-1';
/** Calls the dead region may see for a whole batch: the breaker's threshold (3) plus what was in flight (-j 4), plus a probe or two. */
const MOST_CALLS = 12;

let kms: Awaited<ReturnType<typeof startKmsLocal>>;
let dir: string;
/** The multi-region keyring (us-east-1, and the region that dies). */
let both: string;
/** 120 messages under it, made while every region was healthy. */
let bothData: string;
const keys: Record<string, string> = {};
const credentials = () => ({ accessKeyId: kms.credentials.accessKeyId, secretAccessKey: kms.credentials.secretAccessKey });
const calls = async (region: string, op: string) =>
  ((await (await fetch(`${kms.url}/_admin/stats`)).json()) as Record<string, Record<string, number>>)[region]?.[op] ?? 0;
const resetStats = () => fetch(`${kms.url}/_admin/reset-stats`, { method: 'POST' });
async function tree(d: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(d, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    out[path.relative(d, p)] = createHash('sha256')
      .update(await readFile(p))
      .digest('hex');
  }
  return out;
}
/** The dead region's single-key keyring, with a short call timeout. */
const deadKey = () =>
  JSON.stringify({ type: 'aws-kms', keyId: keys[DEAD], endpoint: kms.url, credentials: credentials(), callTimeoutMs: 300 });

beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', DEAD], port: 0 });
  for (const region of ['us-east-1', DEAD]) {
    const c = new KMSClient({ region, endpoint: kms.url, credentials: credentials() });
    keys[region] = (await c.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    c.destroy();
  }
  dir = await scratch('envelope-failfast-');
  await mkdir(path.join(dir, 'plain'));
  for (let i = 0; i < FILES; i++) await writeFile(path.join(dir, 'plain', `f${String(i).padStart(3, '0')}.txt`), randomBytes(64));
  const k = {
    type: 'aws-kms-multi-region',
    keys: [{ keyId: keys['us-east-1'] }, { keyId: keys[DEAD] }],
    endpoint: kms.url,
    credentials: credentials(),
  };
  both = JSON.stringify({ ...k, callTimeoutMs: 300, deadlineMs: 1000 });
  // One message under both regions, stored 120 times (a valid message each: what fails is the region).
  bothData = path.join(dir, 'both');
  await mkdir(bothData);
  const one = path.join(dir, 'one.enc');
  const made = await run([
    'encrypt',
    '--keyring',
    JSON.stringify(k),
    '--in',
    path.join(dir, 'plain', 'f000.txt'),
    '--out',
    one,
    '--suite',
    '0x0478',
  ]);
  expect(made).toMatchObject({ code: 0, stderr: '' });
  for (let i = 0; i < FILES; i++) await copyFile(one, path.join(bothData, `f${String(i).padStart(3, '0')}.txt.enc`));
}, 30_000);
afterAll(async () => {
  await kms?.close();
});

/** Runs a batch with the dead region blackholed; returns the result and the calls it sent there. */
async function blackholed(op: string, argv: string[]) {
  kms.setFault(DEAD, { mode: 'blackhole' });
  try {
    await resetStats();
    const r = await run(argv);
    return { ...r, calls: await calls(DEAD, op) };
  } finally {
    kms.setFault(DEAD, { mode: 'none' });
  }
}

function grouped(summary: { failed: number; causes: { count: number }[] }) {
  expect(summary.failed).toBe(FILES);
  expect(summary.causes.length).toBeLessThanOrEqual(3);
  expect(summary.causes.reduce((a, c) => a + c.count, 0)).toBe(FILES);
}

describe('a batch against a dead region fails fast, grouped, with nothing changed', () => {
  it('rewrap --mode add to the dead region', async () => {
    const data = path.join(dir, 'rewrap');
    const aes = aesConfig('ff');
    await mkdir(data);
    const one = path.join(dir, 'one-aes.enc');
    expect(
      (await run(['encrypt', '--keyring', aes, '--in', path.join(dir, 'plain', 'f000.txt'), '--out', one, '--suite', '0x0478'])).code,
    ).toBe(0);
    for (let i = 0; i < FILES; i++) await copyFile(one, path.join(data, `f${String(i).padStart(3, '0')}.txt.enc`));
    const before = await tree(data);
    const r = await blackholed('Encrypt', ['rewrap', '--from', aes, '--to', deadKey(), '--mode', 'add', '-j', '4', data]);
    expect(r.code).toBe(1);
    expect(r.calls).toBeLessThanOrEqual(MOST_CALLS);
    // One line per cause on stderr, not one per file.
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines.every((l) => /^envelope: ENVELOPE_[A-Z_]+: .*\(\d+ files: /.test(l))).toBe(true);
    expect(r.stdout.toString()).toMatch(new RegExp(`failed ${FILES} of ${FILES} files`));
    expect(await tree(data)).toEqual(before);
  });

  it('encrypt -r under the dead region', async () => {
    const out = path.join(dir, 'enc-out');
    const r = await blackholed('GenerateDataKey', [
      'encrypt',
      '--keyring',
      deadKey(),
      '-r',
      '--in',
      path.join(dir, 'plain'),
      '--out',
      out,
      '--json',
      '--suite',
      '0x0478',
    ]);
    expect(r.code).toBe(1);
    expect(r.calls).toBeLessThanOrEqual(MOST_CALLS);
    grouped(JSON.parse(r.stdout.toString()));
    // Not even the output directory is left behind.
    expect(existsSync(out)).toBe(false);
  });

  it('decrypt -r with a keyring of the dead region only', async () => {
    const data = bothData;
    const before = await tree(data);
    const out = path.join(dir, 'dec-out');
    const r = await blackholed('Decrypt', ['decrypt', '--keyring', deadKey(), '-r', '--in', data, '--out', out, '--json']);
    expect(r.code).toBe(1);
    expect(r.calls).toBeLessThanOrEqual(MOST_CALLS);
    grouped(JSON.parse(r.stdout.toString()));
    // Not even the output directory is left behind.
    expect(existsSync(out)).toBe(false);
    expect(await tree(data)).toEqual(before);
  });

  it('dr-report --verify through the dead region only', async () => {
    const r = await blackholed('Decrypt', ['dr-report', '--keyring', both, '--without', 'us-east-1', '--verify', '-j', '4', bothData]);
    expect(r.code).toBe(0); // the report was made: it says what failed
    expect(r.calls).toBeLessThanOrEqual(MOST_CALLS);
    const out = r.stdout.toString();
    expect(out).toContain(`verified through ${DEAD}: 0 data keys unwrapped, ${FILES} failed`);
    // The failures are printed by cause: a few lines, not 120.
    expect(out.split('\n').filter((l) => /^ {2}envelope: ENVELOPE_/.test(l)).length).toBeLessThanOrEqual(3);
  });
});
