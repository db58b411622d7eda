// 1 GiB through the CLI with the default suite (0x0578, signed), full run only (issue 14, point 1):
// encrypt, decrypt to a file, decrypt to stdout, and rewrap to another raw AES key, one process
// each, with its wall time and peak RSS (GNU time). The target is peak RSS ≤ 200 MiB for every one.
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ENVELOPE, assertSameFile, rawKeyringFixture, runOnce, writeRandomFile } from '../proc.mjs';
import { MiB, messageOf } from '../lib.mjs';
import { f0, mib } from '../format.mjs';

export const id = 'cli-1gib';
export const title = '1 GiB through the CLI, default suite (processes)';

const node = process.execPath;

export async function run({ quick, log }) {
  if (quick) {
    log('cli-1gib: full run only');
    return { unavailable: 'full run only' };
  }
  const size = 1024 * MiB;
  const { dir, keyring } = rawKeyringFixture('envelope-bench-1gib-');
  const f = (name) => path.join(dir, name);
  try {
    writeRandomFile(f('pt'), size);
    writeFileSync(
      f('to.json'),
      JSON.stringify({ type: 'raw-aes', namespace: 'bench', name: 'aes-2', key: Buffer.alloc(32, 7).toString('base64') }),
      { mode: 0o600 },
    );
    const steps = [
      { name: 'encrypt --out', args: ['encrypt', '--keyring', keyring, '--in', f('pt'), '--out', f('ct')] },
      {
        name: 'decrypt --out',
        args: ['decrypt', '--keyring', keyring, '--in', f('ct'), '--out', f('out')],
        check: () => assertSameFile(f('pt'), f('out')),
      },
      { name: 'decrypt to stdout (> /dev/null)', args: ['decrypt', '--keyring', keyring, '--in', f('ct')], stdout: '/dev/null' },
      { name: 'rewrap (signed: decrypt + re-encrypt)', args: ['rewrap', '--from', keyring, '--to', f('to.json'), f('ct')] },
    ];
    const rows = [];
    for (const s of steps) {
      const r = await runOnce(node, [ENVELOPE, ...s.args], { stdout: s.stdout, rss: true, timeoutMs: 600_000 });
      let error = r.code === 0 ? undefined : `exit ${r.code ?? r.signal}: ${(r.stderr.split('\n')[0] ?? '').slice(0, 300)}`;
      if (!error && s.check) {
        try {
          s.check();
        } catch (e) {
          error = `wrong output: ${messageOf(e)}`;
        }
      }
      rmSync(f('out'), { force: true });
      const row = { name: s.name, wall: r.wall, cpu: r.cpu, peakRss: r.peakRss, error };
      rows.push(row);
      log(`1 GiB ${s.name.padEnd(40)} ${error ? `failed: ${error}` : `${f0(r.wall)} ms, CPU ${f0(r.cpu)} ms, peak RSS ${mib(r.peakRss)}`}`);
    }
    return { size, suite: 0x0578, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function markdown(r) {
  return [
    'One run each (1 GiB of random bytes, suite 0x0578, frame 65536, raw AES keyring); peak RSS from GNU time.',
    '',
    '| step | wall | CPU | peak RSS |',
    '|---|---|---|---|',
    ...r.rows.map((x) =>
      x.error
        ? `| ${x.name} | failed: ${x.error} | | |`
        : `| ${x.name} | ${f0(x.wall / 1000)} s | ${f0(x.cpu / 1000)} s | ${mib(x.peakRss)} |`,
    ),
  ];
}
