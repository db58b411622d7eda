// Against age (issue 16, target 4): the same file through `age` (X25519 recipient, ChaCha20-
// Poly1305 in 64 KiB chunks), through `envelope` (0x0478, frame 65536, raw AES keyring) and
// through the Node floor (bench/floor-file.mjs: per-frame AES-256-GCM into reused buffers, the
// output fsynced as --out is; no header, no keyring), encrypt then decrypt, file to file, as
// processes interleaved run by run (with ENVELOPE_BENCH_BASELINE, the baseline CLI too). Start-up
// alone beside them: `node -e 0` and an encrypt of 100 bytes. And the hardware floor on one core
// from `openssl speed` (AES-256-GCM, ChaCha20-Poly1305, SHA-384 on 64 KiB buffers; ECDSA P-384
// sign/verify), turned into what 2 × the file would cost.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLIS, assertSameFile, benchScript, interleave, rawKeyringFixture, writeRandomFile } from '../proc.mjs';
import { MiB } from '../lib.mjs';
import { f0, mib, ratio } from '../format.mjs';

export const id = 'age';
export const title = 'Against age (processes)';

const node = process.execPath;

/**
 * Bytes per second for one EVP algorithm on 64 KiB buffers, or ECDSA P-384 [sign/s, verify/s]; undefined if openssl is missing.
 * @param {string[]} args
 * @returns {number | number[] | undefined}
 */
export function opensslSpeed(args) {
  try {
    const out = execFileSync('openssl', ['speed', '-mr', '-seconds', '1', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const f = /^\+F:\d+:[^:]+:([\d.]+)/m.exec(out);
    if (f) return Number(f[1]);
    const e = /^\+F4:\d+:\d+:([\d.]+):([\d.]+)/m.exec(out);
    return e ? [Number(e[1]), Number(e[2])] : undefined;
  } catch {
    return undefined;
  }
}

export async function run({ quick, log }) {
  const size = (quick ? 8 : 128) * MiB;
  /** @type {{ aesGcm?: number, chacha?: number, sha384?: number, ecdsaP384?: number[] }} */
  const hardware = {
    aesGcm: /** @type {number | undefined} */ (opensslSpeed(['-evp', 'aes-256-gcm', '-bytes', '65536'])),
    ...(quick
      ? {}
      : {
          chacha: /** @type {number | undefined} */ (opensslSpeed(['-evp', 'chacha20-poly1305', '-bytes', '65536'])),
          sha384: /** @type {number | undefined} */ (opensslSpeed(['-evp', 'sha384', '-bytes', '65536'])),
          ecdsaP384: /** @type {number[] | undefined} */ (opensslSpeed(['ecdsap384'])),
        }),
  };
  const hw = (bps) => (bps ? (2 * size * 1000) / bps : undefined);
  log(
    `openssl speed, one core, 64 KiB: AES-256-GCM ${f0((hardware.aesGcm ?? NaN) / 1e6)} MB/s` +
      (quick
        ? ''
        : `, ChaCha20-Poly1305 ${f0((hardware.chacha ?? NaN) / 1e6)} MB/s, SHA-384 ${f0((hardware.sha384 ?? NaN) / 1e6)} MB/s, ECDSA P-384 ${hardware.ecdsaP384?.map((x) => f0(x)).join(' sign/s, ')} verify/s`),
  );
  let age;
  try {
    age = execFileSync('age', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    log('age: not installed (Debian: apt-get install -y age); envelope alone');
  }
  const { dir, keyring } = rawKeyringFixture('envelope-bench-age-');
  const f = (name) => path.join(dir, name);
  try {
    writeRandomFile(f('pt'), size);
    writeRandomFile(f('small'), 100);
    const tag = (prefix) => prefix.trim().replace(/\s+/g, '-') || 'new';
    const cmds = [
      { name: 'node -e 0', cmd: node, args: ['-e', '0'] },
      ...CLIS.map(({ prefix, cli }) => ({
        name: `${prefix}envelope 100 B`,
        cmd: node,
        args: [cli, 'encrypt', '--keyring', keyring, '--in', f('small'), '--out', f(`${tag(prefix)}.small.ct`)],
      })),
      ...CLIS.map(({ prefix, cli }) => ({
        name: `${prefix}envelope enc`,
        cmd: node,
        args: [
          cli,
          'encrypt',
          '--keyring',
          keyring,
          '--suite',
          '0x0478',
          '--frame-length',
          '65536',
          '--in',
          f('pt'),
          '--out',
          f(`${tag(prefix)}.ct`),
        ],
      })),
      { name: 'floor enc', cmd: node, args: [benchScript('floor-file.mjs'), 'encrypt', f('pt'), f('floor.ct'), '65536', '0', '1'] },
      ...(age ? [{ name: 'age enc', cmd: 'age', args: ['-R', f('recipient'), '-o', f('a.ct'), f('pt')] }] : []),
      ...CLIS.map(({ prefix, cli }) => ({
        name: `${prefix}envelope dec`,
        cmd: node,
        args: [cli, 'decrypt', '--keyring', keyring, '--in', f(`${tag(prefix)}.ct`), '--out', f(`${tag(prefix)}.pt`)],
        check: () => assertSameFile(f('pt'), f(`${tag(prefix)}.pt`)),
      })),
      {
        name: 'floor dec',
        cmd: node,
        args: [benchScript('floor-file.mjs'), 'decrypt', f('floor.ct'), f('floor.pt'), '65536', '0', '1'],
        check: () => assertSameFile(f('pt'), f('floor.pt')),
      },
      ...(age
        ? [
            {
              name: 'age dec',
              cmd: 'age',
              args: ['-d', '-i', f('identity'), '-o', f('a.pt'), f('a.ct')],
              check: () => assertSameFile(f('pt'), f('a.pt')),
            },
          ]
        : []),
    ].map((c) => ({ ...c, rss: true }));
    if (age) {
      execFileSync('age-keygen', ['-o', f('identity')], { stdio: 'ignore' });
      writeFileSync(f('recipient'), execFileSync('age-keygen', ['-y', f('identity')]));
    }
    const r = await interleave(cmds, { runs: quick ? 2 : 7, warmup: 1 });
    const pair = (who) => {
      const e = r[`${who} enc`];
      const d = r[`${who} dec`];
      if (!e || !d) return undefined;
      if (e.error || d.error) return { error: e.error ?? d.error };
      return { enc: e.wall, dec: d.wall, total: e.wall + d.wall, cpu: e.cpu + d.cpu, peakRss: Math.max(e.peakRss, d.peakRss) };
    };
    const ours = pair('envelope');
    const baseline = CLIS.length > 1 ? pair('baseline envelope') : undefined;
    const floor = pair('floor');
    const theirs = pair('age');
    const one = (name) => (r[name] && !r[name].error ? { wall: r[name].wall, cpu: r[name].cpu, peakRss: r[name].peakRss } : undefined);
    const over = (a, b) => (a?.total && b?.total ? a.total / b.total : undefined);
    const result = {
      size,
      ageVersion: age,
      hardware,
      hardwareMs: { aesGcm: hw(hardware.aesGcm), chacha: hw(hardware.chacha) },
      ours,
      baseline,
      floor,
      age: theirs,
      startup: { node: one('node -e 0'), small: one('envelope 100 B'), baselineSmall: one('baseline envelope 100 B') },
      oursOverAge: over(ours, theirs),
      baselineOverAge: over(baseline, theirs),
      floorOverAge: over(floor, theirs),
      oursOverFloor: over(ours, floor),
      oursOverBaseline: over(ours, baseline),
    };
    for (const [n, x] of /** @type {const} */ ([
      ['envelope', ours],
      ['baseline', baseline],
      ['floor', floor],
      ['age', theirs],
    ]))
      if (x)
        log(
          `${n.padEnd(9)} ${size / MiB} MiB ${x.error ? `failed: ${x.error}` : `enc ${f0(x.enc)} + dec ${f0(x.dec)} = ${f0(x.total)} ms, CPU ${f0(x.cpu)} ms, peak RSS ${mib(x.peakRss)}`}`,
        );
    const st = result.startup;
    log(`start-up: node -e 0 ${f0(st.node?.wall)} ms, envelope encrypt of 100 B ${f0(st.small?.wall)} ms`);
    log(
      `envelope/age wall time: ${ratio(result.oursOverAge)}; Node floor/age ${ratio(result.floorOverAge)}; envelope/floor ${ratio(result.oursOverFloor)}` +
        (baseline ? `; baseline/age ${ratio(result.baselineOverAge)}; envelope/baseline ${ratio(result.oursOverBaseline)}` : '') +
        ` (AES-256-GCM alone on one core: ${f0(result.hardwareMs.aesGcm)} ms for enc + dec)`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function markdown(r) {
  const row = (n, x) =>
    !x
      ? `| ${n} | not run | | | | |`
      : x.error
        ? `| ${n} | failed: ${x.error} | | | | |`
        : `| ${n} | ${f0(x.enc)} + ${f0(x.dec)} = ${f0(x.total)} ms | ${ratio(r.age?.total ? x.total / r.age.total : undefined)} | ${f0(x.cpu)} | ${mib(x.peakRss)} |`;
  const h = r.hardware;
  const st = r.startup ?? {};
  return [
    `${r.size / MiB} MiB of random bytes, encrypt then decrypt, file to file, whole processes (medians, interleaved). envelope: 0x0478, frame 65536, raw AES keyring, \`--in F --out G\`. Node floor: \`node bench/floor-file.mjs encrypt|decrypt F G 65536 0 1\` (per-frame AES-256-GCM into reused buffers, output fsynced; no header, no keyring). age ${r.ageVersion ?? '(not installed)'}: X25519 recipient file and identity file, ChaCha20-Poly1305 in 64 KiB chunks.`,
    '',
    '| tool | enc + dec | × age | CPU ms | peak RSS |',
    '|---|---|---|---|---|',
    row('envelope', r.ours),
    ...(r.baseline ? [row('envelope (baseline)', r.baseline)] : []),
    row('Node floor', r.floor),
    row('age', r.age),
    '',
    `envelope / age wall time: **${ratio(r.oursOverAge)}**; envelope / Node floor ${ratio(r.oursOverFloor)}; Node floor / age ${ratio(r.floorOverAge)}.` +
      (r.baseline ? ` envelope / baseline ${ratio(r.oursOverBaseline)}.` : ''),
    '',
    `Start-up alone, same run: \`node -e 0\` ${f0(st.node?.wall)} ms, \`envelope encrypt\` of 100 bytes ${f0(st.small?.wall)} ms` +
      (st.baselineSmall ? ` (baseline ${f0(st.baselineSmall.wall)} ms)` : '') +
      '.',
    '',
    `Hardware floor, one core (\`openssl speed -evp … -bytes 65536\`): AES-256-GCM ${f0((h.aesGcm ?? NaN) / 1e6)} MB/s (${f0(r.hardwareMs.aesGcm)} ms for enc + dec of this file)` +
      (h.chacha
        ? `; ChaCha20-Poly1305 ${f0(h.chacha / 1e6)} MB/s (${f0(r.hardwareMs.chacha)} ms); SHA-384 ${f0(h.sha384 / 1e6)} MB/s; ECDSA P-384 ${f0(h.ecdsaP384?.[0])} sign/s, ${f0(h.ecdsaP384?.[1])} verify/s`
        : '') +
      '.',
  ];
}
