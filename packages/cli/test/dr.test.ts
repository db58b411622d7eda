// Issue 18, what it must show, through the CLI on kms-local over real HTTP: 3 regions, quorum 2;
// 20 healthy encrypts, then 10 with one region blackholed (each warned on stderr); dr-report
// --json lists exactly those 10 as missing that region; --without and --verify on the same set
// (verify calls only the remaining regions); rewrap --mode repair brings missing to empty, each
// repaired message decrypts with the restored region's key alone, and a second run changes
// nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startKmsLocal } from '@envelope/kms-local';
import { run, scratch, spawnCli } from './helpers.js';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'] as const;
const LOST = 'eu-west-1';
let kms: Awaited<ReturnType<typeof startKmsLocal>>;
let dir: string;
let conf: string;
/** The same keyring with a short call timeout: for the encrypts that wait out a blackholed region. */
let fastConf: string;
const keys: Record<string, string> = {};
const plain: Record<string, Buffer> = {};

const credentials = () => ({ accessKeyId: kms.credentials.accessKeyId, secretAccessKey: kms.credentials.secretAccessKey });
const stats = async () => (await (await fetch(`${kms.url}/_admin/stats`)).json()) as Record<string, Record<string, number>>;
const resetStats = () => fetch(`${kms.url}/_admin/reset-stats`, { method: 'POST' });
const files = async (d: string) => (await readdir(d)).sort().map((f) => path.join(d, f));
const digest = async (ps: string[]) =>
  Promise.all(
    ps.map(async (p) =>
      createHash('sha256')
        .update(await readFile(p))
        .digest('hex'),
    ),
  );
const report = async (...args: string[]) => {
  const r = await run(['dr-report', '--keyring', conf, '--json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout.toString());
};

beforeAll(async () => {
  kms = await startKmsLocal({ regions: [...REGIONS], port: 0 });
  for (const region of REGIONS) {
    const c = new KMSClient({ region, endpoint: kms.url, credentials: credentials() });
    keys[region] = (await c.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    c.destroy();
  }
  dir = await scratch('envelope-dr-');
  conf = path.join(dir, 'mr.json');
  fastConf = path.join(dir, 'mr-fast.json');
  const k = {
    type: 'aws-kms-multi-region',
    keys: REGIONS.map((r) => ({ keyId: keys[r] })),
    encryptPolicy: { quorum: 2 },
    endpoint: kms.url,
    credentials: credentials(),
  };
  // Generous bounds: nothing here waits on them unless a region is faulted, and a loaded machine
  // (npm test runs packages side by side) must not fail a healthy call.
  // A fixed, long hedge delay: on a loaded machine a healthy region that loses hedges counts as
  // slow and its breaker can open, failing a repair that needs every region (a rerun would
  // finish it; a test must not depend on the machine's load).
  await writeFile(conf, JSON.stringify({ ...k, callTimeoutMs: 10_000, deadlineMs: 20_000, hedgeAfterMs: 5_000 }), { mode: 0o600 });
  await writeFile(fastConf, JSON.stringify({ ...k, callTimeoutMs: 1000, deadlineMs: 3000 }), { mode: 0o600 });
  for (let i = 0; i < 30; i++) {
    // healthy-00…19; degraded-00…09, the even ones signed (the default suite), the odd ones not.
    const name = i < 20 ? `healthy-${String(i).padStart(2, '0')}` : `degraded-${String(i - 20).padStart(2, '0')}`;
    const set = i < 20 ? 'healthy' : i % 2 ? 'degraded-unsigned' : 'degraded-signed';
    plain[name] = Buffer.from(`${name}: order ${i * 7919}\n`);
    await mkdir(path.join(dir, 'plain', set), { recursive: true });
    await writeFile(path.join(dir, 'plain', set, name), plain[name]!);
  }
  // 20 healthy encrypts.
  const healthy = await run([
    'encrypt',
    '--keyring',
    conf,
    '-r',
    '--in',
    path.join(dir, 'plain', 'healthy'),
    '--out',
    path.join(dir, 'data'),
  ]);
  expect(healthy).toMatchObject({ code: 0, stderr: '' });
  // 10 with eu-west-1 blackholed, each warned: half signed (repaired by re-encryption), half
  // unsigned (repaired header-only). In a batch the region's breaker opens after a few files.
  kms.setFault(LOST, { mode: 'blackhole' });
  try {
    for (const [set, suite] of [
      ['degraded-signed', []],
      ['degraded-unsigned', ['--suite', '0x0478']],
    ] as const) {
      const src = path.join(dir, 'plain', set);
      const r = await run(['encrypt', '--keyring', fastConf, '-r', '--in', src, '--out', path.join(dir, 'data'), ...suite]);
      expect(r.code).toBe(0);
      const names = (await readdir(src)).sort();
      expect(names).toHaveLength(5);
      expect(r.stderr.trim().split('\n').sort()).toEqual(
        names.map((n) => `envelope: warning: ENVELOPE_DEGRADED_ENCRYPT: ${path.join(src, n)}: missing regions ${LOST}`),
      );
    }
  } finally {
    kms.setFault(LOST, { mode: 'none' });
  }
}, 30_000);
afterAll(async () => {
  await kms?.close();
});

describe('disaster recovery through the CLI (issue 18)', () => {
  it('dr-report --json lists exactly the 10 degraded messages as missing that region, reading headers only', async () => {
    await resetStats();
    const all = await files(path.join(dir, 'data'));
    const r = await report(path.join(dir, 'data'));
    expect(r.messages).toBe(30);
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.byRegion).toEqual({ 'us-east-1': 30, 'us-west-2': 30, 'eu-west-1': 20 });
    expect(r.missing).toEqual(all.filter((p) => path.basename(p).startsWith('degraded-')).map((p) => ({ path: p, regions: [LOST] })));
    expect(r.missing).toHaveLength(10);
    expect(r).not.toHaveProperty('unreadable');
    // No key was used: the report reads headers.
    expect(Object.values(await stats()).flatMap((ops) => Object.values(ops))).toEqual([]);
  });

  it('--without lists what a loss would make unreadable; --verify proves it through the remaining regions only', async () => {
    const data = path.join(dir, 'data');
    const degraded = (await files(data)).filter((p) => path.basename(p).startsWith('degraded-'));
    // Losing us-east-1 costs nothing; losing us-east-1 and us-west-2 costs the 10 degraded messages.
    expect((await report('--without', 'us-east-1', data)).unreadable).toEqual([]);
    const two = await report('--without', 'us-east-1', '--without', 'us-west-2', data);
    expect(two.unreadable).toEqual(degraded.map((p) => ({ path: p, without: ['us-east-1', 'us-west-2'] })));

    // us-east-1 actually down: --verify --without us-east-1 unwraps all 30 elsewhere and never calls it.
    kms.setFault('us-east-1', { mode: 'blackhole' });
    try {
      await resetStats();
      const v = await report('--without', 'us-east-1', '--verify', data);
      expect(v.verify).toEqual({ through: ['us-west-2', 'eu-west-1'], verified: 30, failed: [] });
      const s = await stats();
      expect(s['us-east-1']?.['Decrypt'] ?? 0).toBe(0);
      expect((s['us-west-2']?.['Decrypt'] ?? 0) + (s['eu-west-1']?.['Decrypt'] ?? 0)).toBeGreaterThanOrEqual(30);
    } finally {
      kms.setFault('us-east-1', { mode: 'none' });
    }
    // Through eu-west-1 alone: the 20 it covers verify; the 10 it lacks are the unreadable ones, not tried.
    await resetStats();
    const eu = await report('--without', 'us-east-1', '--without', 'us-west-2', '--verify', data);
    expect(eu.verify).toEqual({ through: ['eu-west-1'], verified: 20, failed: [] });
    expect(eu.unreadable).toHaveLength(10);
    const s = await stats();
    expect(Object.keys(s).filter((r) => (s[r]?.['Decrypt'] ?? 0) > 0)).toEqual(['eu-west-1']);
  });

  it('--verify reports a message whose remaining EDK does not open, with its code (the report is still made)', async () => {
    const bad = await scratch('envelope-dr-bad-');
    const src = (await files(path.join(dir, 'data'))).find((p) => path.basename(p).startsWith('healthy-'))!;
    const bytes = Buffer.from(await readFile(src));
    // Corrupt the last byte of the eu-west-1 EDK's ciphertext: the header still parses.
    const arn = Buffer.from(keys['eu-west-1']!);
    const at = bytes.indexOf(arn) + arn.length; // then u16 length, ciphertext
    const len = bytes.readUInt16BE(at);
    bytes[at + 2 + len - 1]! ^= 1;
    await writeFile(path.join(bad, 'tampered.enc'), bytes);
    const r = await report('--without', 'us-east-1', '--without', 'us-west-2', '--verify', bad);
    expect(r.verify.verified).toBe(0);
    expect(r.verify.failed).toEqual([
      expect.objectContaining({ path: path.join(bad, 'tampered.enc'), code: expect.stringMatching(/^ENVELOPE_/) }),
    ]);
  });

  it('a repair killed mid-file leaves every file old or repaired, and a rerun finishes the job', async () => {
    const copy = await scratch('envelope-dr-crash-');
    for (const p of await files(path.join(dir, 'data'))) await copyFile(p, path.join(copy, path.basename(p)));
    const p = spawnCli(['rewrap', '--mode', 'repair', '--from', conf, '-j', '1', copy]);
    // Killed once the second file's temporary exists (the first file is done and renamed by then).
    await p.nth(/^envelope: debug: temp /, 2);
    p.child.kill('SIGKILL');
    expect((await p.exited).signal).toBe('SIGKILL');
    const mid = await report(copy);
    expect(mid.messages).toBe(30);
    expect(mid.missing.length).toBeGreaterThan(0);
    expect(mid.missing.length).toBeLessThan(10);
    const again = await run(['rewrap', '--mode', 'repair', '--from', conf, '--json', copy]);
    expect(again.stderr).toBe('');
    expect(again.code, again.stdout.toString()).toBe(0);
    expect(JSON.parse(again.stdout.toString())).toMatchObject({ files: 30, rewrapped: mid.missing.length, failed: 0 });
    expect((await report(copy)).missing).toEqual([]);
    // No temporary left behind by the killed run.
    expect((await readdir(copy)).filter((n) => !n.endsWith('.enc'))).toEqual([]);
  });

  it('rewrap --mode repair brings missing to empty; each repaired message opens with the restored region alone; a rerun changes nothing', async () => {
    const data = path.join(dir, 'data');
    const all = await files(data);
    const degraded = all.filter((p) => path.basename(p).startsWith('degraded-'));
    const healthyBefore = await digest(all.filter((p) => !degraded.includes(p)));

    // In two shards (as two hosts would): together they repair the 10, each file once.
    const shards = [];
    for (const shard of ['1/2', '2/2']) {
      const r = await run(['rewrap', '--mode', 'repair', '--from', conf, '--shard', shard, '--json', data]);
      expect(r.stderr).toBe('');
      expect(r.code, r.stdout.toString()).toBe(0);
      shards.push(JSON.parse(r.stdout.toString()));
    }
    expect(shards.map((x) => x.files)).toEqual([15, 15]);
    expect(shards.reduce((a, x) => a + x.rewrapped, 0)).toBe(10);
    expect(shards.reduce((a, x) => a + x.reencrypted, 0)).toBe(5);
    expect(shards.reduce((a, x) => a + x.failed, 0)).toBe(0);
    expect((await report(data)).missing).toEqual([]);
    // Healthy messages untouched.
    expect(await digest(all.filter((p) => !degraded.includes(p)))).toEqual(healthyBefore);

    // Each repaired message decrypts with the restored region's key alone.
    const euOnly = JSON.stringify({ type: 'aws-kms', keyId: keys[LOST], endpoint: kms.url, credentials: credentials() });
    for (const p of degraded) {
      const d = await run(['decrypt', '--keyring', euOnly, '--in', p]);
      expect(d.stderr).toBe('');
      expect(d.stdout).toEqual(plain[path.basename(p, '.enc')]);
    }

    // A second run: "already done", nothing changes on disk, no KMS call.
    const before = await digest(all);
    await resetStats();
    const again = await run(['rewrap', '--mode', 'repair', '--from', conf, '--json', data]);
    expect(again.code).toBe(0);
    const s = JSON.parse(again.stdout.toString());
    expect(s).toMatchObject({ files: 30, rewrapped: 0, skipped: 30 });
    expect(new Set(s.skips.map((k: { reason: string }) => k.reason))).toEqual(new Set(['already done']));
    expect(await digest(all)).toEqual(before);
    expect(Object.values(await stats()).flatMap((ops) => Object.values(ops))).toEqual([]);
  });
});

describe('dr-report and repair: bad input is a coded error', () => {
  it.each([
    [['dr-report', 'x'], /^envelope: ENVELOPE_USAGE: --keyring is required/],
    [['dr-report', '--keyring', '{}'], /^envelope: ENVELOPE_USAGE: give files or directories/],
    [
      ['dr-report', '--keyring', '{"type":"raw-aes","namespace":"n","name":"k","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}', '.'],
      /^envelope: ENVELOPE_USAGE: --keyring: expected an aws-kms-multi-region/,
    ],
    [['dr-report', '--keyring', '{}', '-j', '2', '.'], /^envelope: ENVELOPE_USAGE: --concurrency applies to --verify only/],
    [['rewrap', '--mode', 'repair', '--from', '{}', '--to', '{}', '.'], /^envelope: ENVELOPE_USAGE: --mode repair takes no --to/],
    [['rewrap', '--mode', 'mend', '--from', '{}', '.'], /^envelope: ENVELOPE_USAGE: --mode must be replace, add, remove or repair/],
  ])('%j', async (argv, re) => {
    const r = await run(argv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });

  it('--without a region K does not have, --verify with nothing left, and a missing path', async () => {
    const bad = await run(['dr-report', '--keyring', conf, '--without', 'ap-south-1', dir]);
    expect(bad).toMatchObject({ code: 1 });
    expect(bad.stderr).toBe(
      'envelope: ENVELOPE_USAGE: --without ap-south-1: not a region of the keyring (us-east-1, us-west-2, eu-west-1)\n',
    );
    const none = await run(['dr-report', '--keyring', conf, ...REGIONS.flatMap((r) => ['--without', r]), '--verify', dir]);
    expect(none.stderr).toMatch(/^envelope: ENVELOPE_USAGE: --verify: --without names every region/);
    const missing = await run(['dr-report', '--keyring', conf, '--json', path.join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout.toString()).failed).toEqual([
      { path: path.join(dir, 'nope'), code: 'ENVELOPE_IO', message: `${path.join(dir, 'nope')}: no such file or directory (ENOENT)` },
    ]);
  });
});
