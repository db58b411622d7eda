// Does the frame pool pay, and from what size (issue 16, point 4)? `envelope encrypt` and
// `decrypt` of one file, file to file, with the frames on the main thread
// (ENVELOPE_FRAME_WORKERS=0), on one worker and on two, as processes interleaved run by run.
// The threshold is lifted (ENVELOPE_FRAME_WORKERS_MIN_BYTES=0) so every size uses the pool when
// asked to. This table is why the CLI keeps the pool off unless ENVELOPE_FRAME_WORKERS asks for
// it (packages/cli/src/frame-workers.ts): on this 2-core machine it has not paid at any size.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ENVELOPE, assertSameFile, childEnv, interleave, rawKeyringFixture, writeRandomFile } from '../proc.mjs';
import { MiB, hex } from '../lib.mjs';
import { f0, ratio } from '../format.mjs';

export const id = 'cli-parallel';
export const title = 'Frames on worker threads: serial vs one and two workers (processes)';

const node = process.execPath;
const MODES = [
  ['serial', '0'],
  ['1 worker', '1'],
  ['2 workers', '2'],
];

export async function run({ quick, log }) {
  // Quick (the CI's smoke run): serial and one worker only.
  const modes = quick ? MODES.slice(0, 2) : MODES;
  const cases = quick
    ? [{ size: 8 * MiB, suite: 0x0478 }]
    : [
        { size: 1 * MiB, suite: 0x0478 },
        { size: 4 * MiB, suite: 0x0478 },
        { size: 16 * MiB, suite: 0x0478 },
        { size: 64 * MiB, suite: 0x0478 },
        { size: 128 * MiB, suite: 0x0478 },
        { size: 128 * MiB, suite: 0x0578 },
      ];
  const { dir, keyring } = rawKeyringFixture('envelope-bench-par-');
  const f = (name) => path.join(dir, name);
  const rows = [];
  try {
    for (const { size, suite } of cases) {
      writeRandomFile(f('pt'), size);
      const cmds = [];
      for (const op of ['enc', 'dec'])
        for (const [mode, workers] of modes) {
          const env = childEnv({ ENVELOPE_FRAME_WORKERS: workers, ENVELOPE_FRAME_WORKERS_MIN_BYTES: '0' });
          const args =
            op === 'enc'
              ? [
                  'encrypt',
                  '--keyring',
                  keyring,
                  '--suite',
                  hex(suite),
                  '--frame-length',
                  '65536',
                  '--in',
                  f('pt'),
                  '--out',
                  f(`ct-${workers}`),
                ]
              : ['decrypt', '--keyring', keyring, '--in', f(`ct-${workers}`), '--out', f(`out-${workers}`)];
          cmds.push({
            name: `${op} ${mode}`,
            cmd: node,
            args: [ENVELOPE, ...args],
            env,
            rss: true,
            ...(op === 'dec' ? { check: () => assertSameFile(f('pt'), f(`out-${workers}`)) } : {}),
          });
        }
      const runs = quick ? 2 : size >= 64 * MiB ? 5 : 9;
      const r = await interleave(cmds, { runs, warmup: 1 });
      const row = { size, suite, frameLength: 65536, runs, modes: {} };
      for (const [mode] of modes) row.modes[mode] = { enc: r[`enc ${mode}`], dec: r[`dec ${mode}`] };
      const base = row.modes.serial;
      for (const [mode] of modes) {
        const m = row.modes[mode];
        m.encSpeedup = base.enc.wall && m.enc.wall ? base.enc.wall / m.enc.wall : undefined;
        m.decSpeedup = base.dec.wall && m.dec.wall ? base.dec.wall / m.dec.wall : undefined;
      }
      rows.push(row);
      log(
        `${size / MiB} MiB ${hex(suite)}: ` +
          modes
            .map(([mode]) => {
              const m = row.modes[mode];
              const t = (x) => (x.error ? `failed (${x.error})` : `${f0(x.wall)} ms`);
              return `${mode} enc ${t(m.enc)} dec ${t(m.dec)}${mode === 'serial' ? '' : ` (${ratio(m.encSpeedup)} / ${ratio(m.decSpeedup)})`}`;
            })
            .join('; '),
      );
      for (const w of ['0', '1', '2']) for (const x of [`ct-${w}`, `out-${w}`]) rmSync(f(x), { force: true });
    }
    return { rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function markdown(r) {
  const cell = (x) => (!x ? 'not run' : x.error ? `failed: ${x.error}` : `${f0(x.wall)} ms (CPU ${f0(x.cpu)})`);
  return [
    '`envelope encrypt --out` then `decrypt --out` of one file (frame 65536, raw AES keyring), whole processes, medians, interleaved; `ENVELOPE_FRAME_WORKERS` = 0 / 1 / 2 with the size threshold lifted. Speed-up = serial time / this time (above 1: the workers pay).',
    '',
    '| size | suite | serial enc / dec | 1 worker enc / dec | 2 workers enc / dec | speed-up 1 worker | speed-up 2 workers |',
    '|---|---|---|---|---|---|---|',
    ...r.rows.map((x) => {
      const none = { enc: undefined, dec: undefined };
      const m = { '1 worker': none, '2 workers': none, ...x.modes };
      return `| ${x.size / MiB} MiB | ${hex(x.suite)} | ${cell(m.serial.enc)} / ${cell(m.serial.dec)} | ${cell(m['1 worker'].enc)} / ${cell(m['1 worker'].dec)} | ${cell(m['2 workers'].enc)} / ${cell(m['2 workers'].dec)} | ${ratio(m['1 worker'].encSpeedup)} / ${ratio(m['1 worker'].decSpeedup)} | ${ratio(m['2 workers'].encSpeedup)} / ${ratio(m['2 workers'].decSpeedup)} |`;
    }),
  ];
}
