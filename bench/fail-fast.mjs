#!/usr/bin/env node
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Fail fast (issue 18.3): batches of 120 files whose only target region is blackholed on
// kms-local (in its own process), each batch one whole `envelope` process with the keyrings'
// default timeouts: rewrap --mode add to the dead region, encrypt -r under it, decrypt -r with
// it, dr-report --verify through it. Reports each batch's wall time (target: ≤ 20 s), the
// requests the dead region received, the stderr lines (a summary by cause, not 120 lines) and
// whether any file changed. Beside it, the cost without a shared health registry: the same
// rewrap of 2 files, one process per file (each meets the dead region afresh), × 120.
//   node bench/fail-fast.mjs [--files 120]
/* global fetch */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startKmsServer } from './cases/84-cli-failover.mjs';
import { missing } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '..', 'packages', 'cli', 'bin', 'envelope.js');
const DEAD = 'eu-west-1';

function envelope(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { ms: performance.now() - t0, code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const digest = (dir) =>
  readdirSync(dir)
    .sort()
    .map((f) =>
      createHash('sha256')
        .update(readFileSync(path.join(dir, f)))
        .digest('hex'),
    )
    .join();

/** Runs the batches; returns their figures. */
export async function failFastBench({ files = 120, log = (/** @type {string} */ _line) => {} } = {}) {
  const server = await startKmsServer(['us-east-1', DEAD]);
  const root = mkdtempSync(path.join(tmpdir(), 'envelope-failfast-bench-'));
  try {
    const credentials = { accessKeyId: server.credentials.accessKeyId, secretAccessKey: server.credentials.secretAccessKey };
    const keys = {};
    for (const region of ['us-east-1', DEAD]) {
      const c = new KMSClient({ region, endpoint: server.url, credentials: { ...credentials } });
      keys[region] = (await c.send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? missing('key ARN');
      c.destroy();
    }
    const conf = (name, body) => {
      const p = path.join(root, name);
      writeFileSync(p, JSON.stringify(body), { mode: 0o600 });
      return p;
    };
    // Default timeouts: what an operator's configuration would say.
    const dead = conf('dead.json', { type: 'aws-kms', keyId: keys[DEAD], endpoint: server.url, credentials });
    const both = conf('both.json', {
      type: 'aws-kms-multi-region',
      keys: [{ keyId: keys['us-east-1'] }, { keyId: keys[DEAD] }],
      endpoint: server.url,
      credentials,
    });
    const aes = conf('aes.json', { type: 'raw-aes', namespace: 'bench', name: 'k', key: Buffer.alloc(32, 7).toString('base64') });
    const plain = path.join(root, 'plain');
    mkdirSync(plain);
    for (let i = 0; i < files; i++) writeFileSync(path.join(plain, `f${String(i).padStart(3, '0')}.txt`), `record ${i}\n`);
    // Messages: one per keyring, stored `files` times (valid messages; what fails is the region).
    const copies = (keyring, name) => {
      const one = path.join(root, `${name}.enc`);
      const r = envelope(['encrypt', '--keyring', keyring, '--in', path.join(plain, 'f000.txt'), '--out', one, '--suite', '0x0478']);
      if (r.code !== 0) throw new Error(`encrypt: ${r.stderr}`);
      const d = path.join(root, name);
      mkdirSync(d);
      for (let i = 0; i < files; i++) copyFileSync(one, path.join(d, `f${String(i).padStart(3, '0')}.txt.enc`));
      return d;
    };
    const aesData = copies(aes, 'aes-data');
    const bothData = copies(both, 'both-data');

    const batches = {
      'rewrap --mode add': { op: 'Encrypt', dir: aesData, args: ['rewrap', '--from', aes, '--to', dead, '--mode', 'add', aesData] },
      'encrypt -r': {
        op: 'GenerateDataKey',
        dir: plain,
        args: ['encrypt', '--keyring', dead, '-r', '--in', plain, '--out', path.join(root, 'enc-out')],
      },
      'decrypt -r': {
        op: 'Decrypt',
        dir: bothData,
        args: ['decrypt', '--keyring', dead, '-r', '--in', bothData, '--out', path.join(root, 'dec-out')],
      },
      'dr-report --verify': {
        op: 'Decrypt',
        dir: bothData,
        args: ['dr-report', '--keyring', both, '--without', 'us-east-1', '--verify', bothData],
      },
    };
    await server.fault(DEAD, 'blackhole');
    const stats = async () => (await (await fetch(`${server.url}/_admin/stats`)).json())[DEAD] ?? {};
    const results = {};
    for (const [name, b] of Object.entries(batches)) {
      const before = digest(b.dir);
      const s0 = await stats();
      const r = envelope(b.args);
      const s1 = await stats();
      const failedLine = (r.stdout.match(/failed (\d+) of (\d+) files|(\d+) failed/) ?? [])[0];
      results[name] = {
        seconds: r.ms / 1000,
        exit: r.code,
        deadRegionRequests: (s1[b.op] ?? 0) - (s0[b.op] ?? 0),
        failureLines:
          r.stderr.split('\n').filter((l) => /^envelope: ENVELOPE_/.test(l)).length +
          r.stdout.split('\n').filter((l) => /^ {2}envelope: ENVELOPE_/.test(l)).length,
        summary: failedLine,
        unchanged: digest(b.dir) === before,
      };
      log(
        `${name}: ${files} files in ${(r.ms / 1000).toFixed(1)} s (exit ${r.code}); ${results[name].deadRegionRequests} requests to ${DEAD}; ` +
          `${results[name].failureLines} failure lines (${failedLine}); inputs ${results[name].unchanged ? 'unchanged' : 'CHANGED'}`,
      );
    }
    // Without a shared registry: one process per file, each meets the dead region afresh.
    const solo = [];
    for (let i = 0; i < 2; i++)
      solo.push(envelope(['rewrap', '--from', aes, '--to', dead, '--mode', 'add', path.join(aesData, `f00${i}.txt.enc`)]).ms);
    const perFile = solo.reduce((a, b) => a + b, 0) / solo.length / 1000;
    log(
      `rewrap --mode add, one process per file (no shared registry): ${perFile.toFixed(1)} s a file → ${(perFile * files).toFixed(0)} s for ${files} files`,
    );
    return { files, deadRegion: DEAD, batches: results, onePerFile: { secondsPerFile: perFile, projectedSeconds: perFile * files } };
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { files: { type: 'string' } } });
  const r = await failFastBench({ files: values.files ? Number(values.files) : undefined, log: console.log });
  console.log(JSON.stringify(r));
}
