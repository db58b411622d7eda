// A large file round trip as processes (issue 16, target 2): `envelope encrypt --out` then
// `envelope decrypt --out` against a script on @aws-crypto/client-node's buffer API (read the
// file, one call, write the result: bench/sdk-file.mjs) and against the single-thread Node floor
// (bench/floor-file.mjs: per-frame AES-GCM, plus SHA-384 and one ECDSA P-384 signature or
// verification for the signed suite). Same key, context, suite and frame length on every side;
// the six commands interleaved run by run; peak RSS of each from GNU time.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ENVELOPE, assertSameFile, benchScript, interleave, rawKeyringFixture, writeRandomFile } from '../proc.mjs';
import { MiB, hex } from '../lib.mjs';
import { f0, mib, ratio } from '../format.mjs';

export const id = 'cli-roundtrip';
export const title = 'Large files as processes: envelope vs the SDK buffer API vs the Node floor';

const node = process.execPath;

export async function run({ quick, log }) {
  const size = (quick ? 8 : 128) * MiB;
  const cases = quick
    ? [{ suite: 0x0478, frame: 65536 }]
    : [
        { suite: 0x0478, frame: 4096 },
        { suite: 0x0478, frame: 65536 },
        { suite: 0x0578, frame: 4096 },
        { suite: 0x0578, frame: 65536 },
      ];
  const { dir, keyring } = rawKeyringFixture('envelope-bench-cli-');
  const f = (name) => path.join(dir, name);
  try {
    writeRandomFile(f('pt'), size);
    const rows = [];
    for (const { suite, frame } of cases) {
      const signed = suite === 0x0578 ? '1' : '0';
      const same = (out) => () => assertSameFile(f('pt'), f(out));
      const cmds = [
        {
          name: 'ours enc',
          cmd: node,
          args: [
            ENVELOPE,
            'encrypt',
            '--keyring',
            keyring,
            '-c',
            'purpose=bench',
            '--suite',
            hex(suite),
            '--frame-length',
            String(frame),
            '--in',
            f('pt'),
            '--out',
            f('ours.ct'),
          ],
        },
        { name: 'sdk enc', cmd: node, args: [benchScript('sdk-file.mjs'), 'encrypt', f('pt'), f('sdk.ct'), String(suite), String(frame)] },
        { name: 'floor enc', cmd: node, args: [benchScript('floor-file.mjs'), 'encrypt', f('pt'), f('floor.ct'), String(frame), signed] },
        {
          name: 'ours dec',
          cmd: node,
          args: [ENVELOPE, 'decrypt', '--keyring', keyring, '--in', f('ours.ct'), '--out', f('ours.pt')],
          check: same('ours.pt'),
        },
        { name: 'sdk dec', cmd: node, args: [benchScript('sdk-file.mjs'), 'decrypt', f('sdk.ct'), f('sdk.pt')], check: same('sdk.pt') },
        {
          name: 'floor dec',
          cmd: node,
          args: [benchScript('floor-file.mjs'), 'decrypt', f('floor.ct'), f('floor.pt'), String(frame), signed],
          check: same('floor.pt'),
        },
      ].map((c) => ({ ...c, rss: true }));
      const r = await interleave(cmds, { runs: quick ? 2 : 5, warmup: 1 });
      const side = (who) => {
        const e = r[`${who} enc`];
        const d = r[`${who} dec`];
        const error = e.error ?? d.error;
        return error
          ? { error, enc: e, dec: d }
          : {
              enc: e,
              dec: d,
              roundTrip: e.wall + d.wall,
              cpu: (e.cpu ?? NaN) + (d.cpu ?? NaN),
              peakRss: Math.max(e.peakRss ?? 0, d.peakRss ?? 0),
            };
      };
      const row = { suite, frameLength: frame, size, ours: side('ours'), sdk: side('sdk'), floor: side('floor') };
      if (row.ours.roundTrip && row.sdk.roundTrip) row.vsSdk = row.sdk.roundTrip / row.ours.roundTrip;
      if (row.ours.roundTrip && row.floor.roundTrip) row.vsFloor = row.floor.roundTrip / row.ours.roundTrip;
      rows.push(row);
      const fmt = (s) =>
        s.error
          ? `failed (${s.error})`
          : `enc ${f0(s.enc.wall)} + dec ${f0(s.dec.wall)} = ${f0(s.roundTrip)} ms, CPU ${f0(s.cpu)} ms, peak RSS ${mib(s.peakRss)}`;
      log(`${size / MiB} MiB ${hex(suite)} frame ${frame}:`);
      log(`  ours  ${fmt(row.ours)}`);
      log(`  SDK   ${fmt(row.sdk)}`);
      log(`  floor ${fmt(row.floor)}`);
      log(`  round trip: ours/SDK ${ratio(row.vsSdk)}, ours/floor ${ratio(row.vsFloor)} (speed, higher is better for ours)`);
      for (const x of ['ours.ct', 'sdk.ct', 'floor.ct', 'ours.pt', 'sdk.pt', 'floor.pt']) rmSync(f(x), { force: true });
    }
    return { size, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function markdown(r) {
  const ms = (x) => (x?.wall === undefined ? 'failed' : f0(x.wall));
  const cell = (s) => (s.error ? `failed: ${s.error}` : `${ms(s.enc)} + ${ms(s.dec)} = ${f0(s.roundTrip)}`);
  return [
    `${r.size / MiB} MiB of random bytes, file to file. ours: \`envelope encrypt --in F --out F.enc\` then \`envelope decrypt --in F.enc --out F2\` (raw AES keyring from a key file). SDK: \`node bench/sdk-file.mjs\` (readFileSync, \`client.encrypt\`/\`client.decrypt\` on the whole buffer, writeFileSync). Floor: \`node bench/floor-file.mjs\`, the crypto a framed message needs and nothing else (per-frame AES-256-GCM into reused 1 MiB blocks; signed: SHA-384 of the ciphertext and one ECDSA P-384 sign or verify), single thread. Times are medians of whole processes (start-up included), wall clock, ms; speed ratios are the other side's round trip over ours (above 1: ours is faster). Peak RSS is the larger of the encrypt and decrypt processes (GNU time).`,
    '',
    '| suite | frame | ours enc + dec | SDK enc + dec | floor enc + dec | ours/SDK | ours/floor | peak RSS ours / SDK / floor | CPU ms ours / SDK / floor |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (x) =>
        `| ${hex(x.suite)} | ${x.frameLength} | ${cell(x.ours)} | ${cell(x.sdk)} | ${cell(x.floor)} | ${ratio(x.vsSdk)} | ${ratio(x.vsFloor)} | ${[x.ours, x.sdk, x.floor].map((s) => (s.peakRss ? mib(s.peakRss) : 'n/a')).join(' / ')} | ${[x.ours, x.sdk, x.floor].map((s) => (s.cpu ? f0(s.cpu) : 'n/a')).join(' / ')} |`,
    ),
  ];
}
