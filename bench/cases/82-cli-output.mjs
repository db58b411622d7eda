// Where decrypt writes (issue 16, target 3): `envelope decrypt --out F` against the same decrypt
// to /dev/null and to a file through stdout, as processes, interleaved. Unsigned suite (0x0478,
// frame 65536), so every form streams; the target is --out within 15% of /dev/null.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ENVELOPE, assertSameFile, interleave, rawKeyringFixture, runOnce, wallRatio, writeRandomFile } from '../proc.mjs';
import { MiB } from '../lib.mjs';
import { f0, mib, ratio } from '../format.mjs';

export const id = 'cli-output';
export const title = 'Decrypt to a file vs to /dev/null (processes)';

const node = process.execPath;

export async function run({ quick, log }) {
  const size = (quick ? 8 : 128) * MiB;
  const { dir, keyring } = rawKeyringFixture('envelope-bench-out-');
  const f = (name) => path.join(dir, name);
  try {
    writeRandomFile(f('pt'), size);
    const enc = await runOnce(node, [
      ENVELOPE,
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
      f('ct'),
    ]);
    if (enc.code !== 0) throw new Error(`encrypt failed: ${enc.stderr}`);
    const dec = [ENVELOPE, 'decrypt', '--keyring', keyring, '--in', f('ct')];
    const cmds = [
      { name: 'to /dev/null (stdout)', cmd: node, args: dec, stdout: '/dev/null' },
      { name: '--out FILE', cmd: node, args: [...dec, '--out', f('out')], check: () => assertSameFile(f('pt'), f('out')) },
      { name: 'stdout > FILE', cmd: node, args: dec, stdout: f('redirected'), check: () => assertSameFile(f('pt'), f('redirected')) },
    ].map((c) => ({ ...c, rss: true }));
    const r = await interleave(cmds, { runs: quick ? 2 : 7, warmup: 1 });
    const base = r['to /dev/null (stdout)'];
    const rows = cmds.map((c) => ({ name: c.name, ...r[c.name], vsNull: wallRatio(r[c.name], base) }));
    for (const x of rows)
      log(
        `decrypt ${size / MiB} MiB ${x.name.padEnd(22)} ${x.error ? `failed: ${x.error}` : `${f0(x.wall)} ms, CPU ${f0(x.cpu)} ms, ${ratio(x.vsNull)} /dev/null, peak RSS ${mib(x.peakRss)}`}`,
      );
    return { size, suite: 0x0478, frameLength: 65536, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function markdown(r) {
  return [
    `\`envelope decrypt\` of a ${r.size / MiB} MiB message (0x0478, frame 65536, raw AES keyring), whole processes, medians, interleaved. Start-up is included on every row.`,
    '',
    '| output | median | × /dev/null | CPU ms | peak RSS |',
    '|---|---|---|---|---|',
    ...r.rows.map((x) =>
      x.error
        ? `| ${x.name} | failed: ${x.error} | | | |`
        : `| ${x.name} | ${f0(x.wall)} ms | ${ratio(x.vsNull)} | ${f0(x.cpu)} | ${mib(x.peakRss)} |`,
    ),
  ];
}
