#!/usr/bin/env node
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `envelope dr-report` over many stored messages (issue 18.1: ≥ 20,000 headers/s without
// --verify). Makes N message files quickly: two real messages encrypted on kms-local under a
// 3-region MultiRegionKeyring (one complete, one lacking eu-west-1: every tenth file), copied
// with distinct message ids into directories of 1,000 files (a header's parse cost does not
// depend on its id; no key is used without --verify). Then runs the real CLI as a whole process,
// `envelope dr-report --keyring K --json DIR`, several times on a warm page cache, and beside it
// the floor: one Node process that walks the tree the same way (directory entries, no stat) and
// opens, reads the first 4 KiB of and closes every file: the same I/O, no parsing. Reports headers/s and the ratio to the floor.
//   node bench/dr-report.mjs [--files 100000] [--runs 3] [--keep DIR]
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { encrypt } from '@envelope/core';
import { kmsClientSupplier, kmsOperations } from '@envelope/keyring-kms';
import { HealthRegistry, MultiRegionKeyring } from '@envelope/keyring-multi-region';
import { startKmsLocal } from '@envelope/kms-local';
import { missing } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '..', 'packages', 'cli', 'bin', 'envelope.js');
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
const PER_DIR = 1000;

/** The floor: open, read 4 KiB, close every file of the tree, in one Node process. */
const FLOOR = `
const fs = require('node:fs'), path = require('node:path');
const buf = Buffer.allocUnsafe(4096);
let n = 0;
const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
  const p = path.join(d, e.name);
  if (e.isDirectory()) walk(p);
  else if (e.isFile()) { const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW); fs.readSync(fd, buf, 0, 4096, null); fs.closeSync(fd); n++; } } };
walk(process.argv[1]);
process.stdout.write(String(n));
`;

/** Makes the messages; returns the tree, the keyring configuration and how many lack a region. */
async function makeTree(files, log) {
  const kms = await startKmsLocal({ regions: REGIONS, port: 0 });
  try {
    const credentials = { accessKeyId: kms.credentials.accessKeyId, secretAccessKey: kms.credentials.secretAccessKey };
    const keys = [];
    for (const region of REGIONS) {
      const c = new KMSClient({ region, endpoint: kms.url, credentials });
      keys.push({ keyId: (await c.send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? missing('key ARN') });
      c.destroy();
    }
    const kmsOps = kmsOperations(kmsClientSupplier({ endpoint: kms.url, credentials }));
    const full = new MultiRegionKeyring({ keys, kms: kmsOps, health: new HealthRegistry() });
    const body = Buffer.from('order 1001: 3 × widget\n');
    const complete = Buffer.from((await encrypt(body, { keyring: full })).ciphertext);
    const degraded = Buffer.from((await encrypt(body, { keyring: full.restrictedTo(REGIONS.slice(0, 2)) })).ciphertext);
    const root = mkdtempSync(path.join(tmpdir(), 'envelope-dr-bench-'));
    const conf = path.join(root, 'mr.json');
    // No KMS call is made without --verify: the endpoint need not answer.
    const plainCredentials = { accessKeyId: kms.credentials.accessKeyId, secretAccessKey: kms.credentials.secretAccessKey };
    writeFileSync(
      conf,
      JSON.stringify({
        type: 'aws-kms-multi-region',
        keys,
        encryptPolicy: { quorum: 2 },
        endpoint: kms.url,
        credentials: plainCredentials,
      }),
      {
        mode: 0o600,
      },
    );
    const tree = path.join(root, 'data');
    const t0 = performance.now();
    let lacking = 0;
    for (let i = 0; i < files; i++) {
      const d = path.join(tree, `d${String(Math.floor(i / PER_DIR)).padStart(4, '0')}`);
      if (i % PER_DIR === 0) mkdirSync(d, { recursive: true });
      const template = i % 10 === 9 ? degraded : complete;
      if (template === degraded) lacking++;
      const m = Buffer.from(template);
      randomBytes(32).copy(m, 3); // v2 header: version (1), suite id (2), message id (32)
      writeFileSync(path.join(d, `m${String(i).padStart(7, '0')}.enc`), m);
    }
    log(`dr-report: made ${files} message files (${complete.byteLength} bytes each) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { root, tree, conf, lacking, messageBytes: complete.byteLength };
  } finally {
    await kms.close();
  }
}

function timeProcess(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { maxBuffer: 1 << 30, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** Runs the bench; returns the figures. */
/**
 * @param {{ files?: number, runs?: number, keep?: boolean, log?: (line: string) => void }} [options]
 */
export async function drReportBench({ files = 100_000, runs = 3, keep = false, log = () => {} } = {}) {
  const t = await makeTree(files, log);
  try {
    // Warm the page cache (and check the count) once before timing.
    timeProcess(['-e', FLOOR, t.tree]);
    const ours = [];
    const floor = [];
    let report;
    for (let i = 0; i < runs; i++) {
      const o = timeProcess([CLI, 'dr-report', '--keyring', t.conf, '--json', t.tree]);
      report = JSON.parse(o.stdout);
      ours.push(o.ms);
      floor.push(timeProcess(['-e', FLOOR, t.tree]).ms);
    }
    if (report.messages !== files || report.missing.length !== t.lacking) {
      throw new Error(
        `dr-report counted ${report.messages} messages and ${report.missing.length} missing; expected ${files} and ${t.lacking}`,
      );
    }
    const best = Math.min(...ours);
    const bestFloor = Math.min(...floor);
    const r = {
      files,
      messageBytes: t.messageBytes,
      missing: report.missing.length,
      runs: ours.map((ms) => Math.round(ms)),
      bestMs: Math.round(best),
      headersPerSecond: Math.round(files / (best / 1000)),
      floorMs: Math.round(bestFloor),
      floorPerSecond: Math.round(files / (bestFloor / 1000)),
      vsFloor: bestFloor / best,
      target: 20_000,
    };
    log(
      `dr-report --json over ${files} files (whole process, best of ${runs}): ${r.bestMs} ms = ${r.headersPerSecond} headers/s ` +
        `(target ≥ 20000: ${r.headersPerSecond >= 20_000 ? 'met' : 'NOT MET'}); floor (open+read 4 KiB+close, no parse) ${r.floorMs} ms = ${r.floorPerSecond}/s; ours/floor ${r.vsFloor.toFixed(2)}×`,
    );
    return r;
  } finally {
    if (keep) log(`kept ${t.root}`);
    else rmSync(t.root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { files: { type: 'string' }, runs: { type: 'string' }, keep: { type: 'boolean' } } });
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim();
  console.log(`dr-report bench, envelope ${commit}, load average ${(await import('node:os')).loadavg()[0]?.toFixed(1)}`);
  const r = await drReportBench({
    files: values.files ? Number(values.files) : undefined,
    runs: values.runs ? Number(values.runs) : undefined,
    keep: values.keep,
    log: console.log,
  });
  console.log(JSON.stringify(r));
}
