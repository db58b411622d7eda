// DR state visible from the CLI, on kms-local: a degraded encrypt (one region blackholed under a
// quorum policy) warns on stderr and exits 0, the warning is in --json and --metadata-output, and
// --audit writes the degraded-encrypt event with the message id and the missing regions. A batch
// builds its keyring once: one cache for every file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startKmsLocal } from '@envelope/kms-local';
import { run, scratch } from './helpers.js';

let kms: Awaited<ReturnType<typeof startKmsLocal>>;
let dir: string;
const keys: Record<string, string> = {};

beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
  for (const region of ['us-east-1', 'eu-west-1']) {
    const c = new KMSClient({ region, endpoint: kms.url, credentials: { ...kms.credentials } });
    keys[region] = (await c.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    c.destroy();
  }
  dir = await scratch('envelope-degraded-');
});
afterAll(async () => {
  await kms.close();
});

const credentials = () => ({ accessKeyId: kms.credentials.accessKeyId, secretAccessKey: kms.credentials.secretAccessKey });

describe('a degraded encrypt through the CLI', () => {
  it('warns on stderr, exits 0, and carries the warning in --json, --metadata-output and the --audit event', async () => {
    const conf = path.join(dir, 'mr.json');
    await writeFile(
      conf,
      JSON.stringify({
        type: 'aws-kms-multi-region',
        keys: [{ keyId: keys['us-east-1'] }, { keyId: keys['eu-west-1'] }],
        encryptPolicy: { quorum: 1 },
        endpoint: kms.url,
        credentials: credentials(),
        // The blackholed region is given up after this; the healthy one must answer within it
        // even on a loaded machine (npm test runs packages side by side).
        callTimeoutMs: 1000,
        deadlineMs: 3000,
      }),
      { mode: 0o600 },
    );
    const input = path.join(dir, 'order.txt');
    await writeFile(input, 'order 1001');
    kms.setFault('eu-west-1', { mode: 'blackhole' });
    try {
      const audit = path.join(dir, 'audit.jsonl');
      const meta = path.join(dir, 'meta.jsonl');
      const out = path.join(dir, 'order.enc');
      const r = await run([
        'encrypt',
        '--keyring',
        conf,
        '--in',
        input,
        '--out',
        out,
        '--json',
        '--metadata-output',
        meta,
        '--audit',
        audit,
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(`envelope: warning: ENVELOPE_DEGRADED_ENCRYPT: ${input}: missing regions eu-west-1\n`);
      const summary = JSON.parse(r.stdout.toString());
      expect(summary).toMatchObject({ done: 1, failed: 0 });
      expect(summary.warnings).toEqual([
        expect.objectContaining({ input, code: 'ENVELOPE_DEGRADED_ENCRYPT', missingRegions: ['eu-west-1'] }),
      ]);
      const m = JSON.parse(await readFile(meta, 'utf8'));
      expect(m.warnings).toEqual([expect.objectContaining({ code: 'ENVELOPE_DEGRADED_ENCRYPT', missingRegions: ['eu-west-1'] })]);
      expect(m.encryptedDataKeys).toEqual([{ providerId: 'aws-kms', key: keys['us-east-1'], region: 'us-east-1' }]);
      const events = (await readFile(audit, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const degraded = events.filter((e) => e.operation === 'degraded-encrypt');
      expect(degraded).toHaveLength(1);
      expect(degraded[0]).toMatchObject({
        keyringType: 'aws-kms-multi-region',
        messageId: m.messageId,
        missingRegions: ['eu-west-1'],
        details: { input, output: out },
      });
      expect(events.some((e) => e.operation === 'generate' || e.operation === 'wrap')).toBe(true);
      // The audit file is private, and holds no key material.
      expect(JSON.stringify(events)).not.toMatch(/"(plaintext|key)":/);

      // Healthy again: no warning.
      kms.setFault('eu-west-1', { mode: 'none' });
      const ok = await run(['encrypt', '--keyring', conf, '--in', input, '--out', out]);
      expect(ok).toMatchObject({ code: 0, stderr: '' });
    } finally {
      kms.setFault('eu-west-1', { mode: 'none' });
    }
  });

  it('a batch builds its keyring once: with a cache, one data key for every file', async () => {
    const src = path.join(dir, 'tree');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(src, 'a'), { recursive: true });
    for (let i = 0; i < 8; i++) await writeFile(path.join(src, i % 2 ? 'a' : '', `f${i}`), `file ${i}`);
    const conf = path.join(dir, 'cached.json');
    await writeFile(
      conf,
      JSON.stringify({
        keyring: { type: 'aws-kms', keyId: keys['us-east-1'], endpoint: kms.url, credentials: credentials() },
        cache: { maxAgeMs: 60_000, maxMessagesEncrypted: 100 },
      }),
      { mode: 0o600 },
    );
    await fetch(`${kms.url}/_admin/reset-stats`, { method: 'POST' });
    const r = await run([
      'encrypt',
      '--keyring',
      conf,
      '-r',
      '--in',
      src,
      '--out',
      path.join(dir, 'tree.enc'),
      '-j',
      '1',
      '--suite',
      '0x0478',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const stats = (await (await fetch(`${kms.url}/_admin/stats`)).json()) as Record<string, Record<string, number>>;
    expect(stats['us-east-1']?.['GenerateDataKey']).toBe(1);
  });
});
