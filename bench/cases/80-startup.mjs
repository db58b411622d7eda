// Start-up as a user meets it: whole `envelope` processes against `node -e 0`, interleaved run
// by run, medians (issue 16, target 1). A raw-AES keyring from a key file, a 100-byte file.
// Then, untimed: what a raw-keyring encrypt loads (module trace) and where its CPU goes (profile),
// and (full run) what importing each heavy package costs by itself, as processes against an empty
// ES module.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIS, interleave, rawKeyringFixture, wallRatio } from '../proc.mjs';
import { profileStartup, traceModules } from '../startup-profile.mjs';
import { messageOf, randomBytes } from '../lib.mjs';
import { f0, ratio } from '../format.mjs';

export const id = 'startup';
export const title = 'Start-up (whole processes, ms)';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const node = process.execPath;
/**
 * Packages timed alone (full run). Before issue 16, @envelope/config pulled in zod, inversify
 * (since dropped: docs/plugins.md) and the AWS SDK for every keyring; now only the types that
 * use them load them.
 */
const IMPORTS = ['zod', '@aws-sdk/client-kms', '@envelope/core', '@envelope/keyring-local', '@envelope/keyring-kms', '@envelope/config'];

export async function run({ quick, log }) {
  const { dir, keyring } = rawKeyringFixture('envelope-bench-startup-');
  try {
    const small = path.join(dir, 'small');
    const dec = path.join(dir, 'small.dec');
    const plain = randomBytes(100);
    writeFileSync(small, plain);
    const commands = [{ name: 'node -e 0', cmd: node, args: ['-e', '0'] }];
    for (const { prefix, cli } of CLIS) {
      const env = (name, args) => ({ name: `${prefix}${name}`, cmd: node, args: [cli, ...args], cwd: dir });
      commands.push(
        env('--version', ['--version']),
        env('--help', ['--help']),
        env('encrypt 100 B (raw AES)', ['encrypt', '--keyring', 'keyring.json', '--in', 'small', '--out', 'small.enc']),
        {
          ...env('decrypt 100 B (raw AES)', ['decrypt', '--keyring', 'keyring.json', '--in', 'small.enc', '--out', 'small.dec']),
          check: () => {
            if (!readFileSync(dec).equals(plain)) throw new Error('decrypt output differs');
          },
        },
      );
    }
    const r = await interleave(commands, { runs: quick ? 3 : 15, warmup: 1 });
    const base = r['node -e 0'];
    const rows = commands.map((c) => ({ name: c.name, ...r[c.name], vsNode: wallRatio(r[c.name], base) }));
    for (const x of rows)
      log(`${x.name.padEnd(26)} ${x.error ? `failed: ${x.error}` : `${f0(x.wall)} ms (min ${f0(x.min)}), ${ratio(x.vsNode)} node -e 0`}`);

    const rawArgs = ['encrypt', '--keyring', keyring, '--in', small, '--out', path.join(dir, 'traced.enc')];
    const traces = [];
    for (const { prefix, cli } of CLIS) {
      try {
        const modules = await traceModules(rawArgs, { cwd: dir, cli });
        log(
          `${prefix}raw-keyring encrypt loads ${modules.modules} modules (${f0(modules.bytes / 1024)} KiB) and ${modules.builtins} built-ins:`,
        );
        log(`  ${modules.packages.map((x) => `${x.pkg} ${x.modules}`).join(', ')}`);
        const profile = await profileStartup(rawArgs, { cwd: dir, cli });
        log(`${prefix}CPU profile (${f0(profile.totalMs)} ms): ${profile.packages.map((x) => `${x.pkg} ${f0(x.ms)}`).join(', ')}`);
        traces.push({ build: prefix.trim() || 'this build', modules, profile });
      } catch (e) {
        log(`${prefix}module trace / profile failed: ${messageOf(e)}`);
      }
    }
    const { modules, profile } = traces[0] ?? {};
    const baseline = traces[1];

    let imports;
    if (!quick) {
      const empty = { name: '(empty module)', cmd: node, args: ['--input-type=module', '-e', ''], cwd: root };
      const each = IMPORTS.map((p) => ({
        name: p,
        cmd: node,
        args: ['--input-type=module', '-e', `await import(${JSON.stringify(p)})`],
        cwd: root,
      }));
      const ir = await interleave([empty, ...each], { runs: 9, warmup: 1 });
      imports = IMPORTS.map((p) => ({ pkg: p, ...ir[p], overEmpty: ir[p].wall - ir['(empty module)'].wall }));
      imports.unshift({ pkg: '(empty module)', ...ir['(empty module)'] });
      for (const x of imports)
        log(
          `import ${x.pkg.padEnd(26)} ${x.error ? x.error : `${f0(x.wall)} ms${x.overEmpty !== undefined ? ` (+${f0(x.overEmpty)})` : ''}`}`,
        );
    }
    return { rows, modules, profile, baseline, imports };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function markdown(r) {
  const lines = [
    'Each command is a new process started from the bench (spawn → exit), one of each per round, a warm-up round discarded, the median of the rest; ratios against `node -e 0` from the same rounds. Raw-AES keyring from a 0600 key file; `envelope` is `node packages/cli/bin/envelope.js` (what `npx envelope` runs).',
    '',
    '| command | median | fastest | × `node -e 0` |',
    '|---|---|---|---|',
    ...r.rows.map((x) =>
      x.error ? `| ${x.name} | failed: ${x.error} | | |` : `| ${x.name} | ${f0(x.wall)} ms | ${f0(x.min)} ms | ${ratio(x.vsNode)} |`,
    ),
  ];
  if (r.modules) {
    lines.push(
      '',
      `What a raw-keyring \`encrypt\` loads: ${r.modules.modules} modules, ${f0(r.modules.bytes / 1024)} KiB of JavaScript, and ${r.modules.builtins} of Node's built-in modules.`,
      '',
      '| package | modules | KiB |',
      '|---|---|---|',
      ...r.modules.packages.map((x) => `| ${x.pkg} | ${x.modules} | ${f0(x.bytes / 1024)} |`),
    );
  }
  if (r.profile) {
    lines.push(
      '',
      `Where its CPU goes (\`node --cpu-prof\`, ${f0(r.profile.totalMs)} ms profiled; a sample is charged to the innermost module-loader or package frame on its stack):`,
      '',
      '| where | ms |',
      '|---|---|',
      ...r.profile.packages.filter((x) => x.ms >= 1).map((x) => `| ${x.pkg} | ${f0(x.ms)} |`),
    );
  }
  if (r.baseline) {
    lines.push(
      '',
      `The baseline build (bench/snapshot.mjs) loads ${r.baseline.modules.modules} modules (${f0(r.baseline.modules.bytes / 1024)} KiB): ${r.baseline.modules.packages.map((x) => `${x.pkg} ${x.modules}`).join(', ')}.`,
    );
  }
  if (r.imports) {
    lines.push(
      '',
      'Importing one package alone (`node --input-type=module -e "await import(…)"` from the repository root), against an empty module:',
      '',
      '| package | median | added |',
      '|---|---|---|',
      ...r.imports.map((x) =>
        x.error
          ? `| ${x.pkg} | ${x.error} | |`
          : `| ${x.pkg} | ${f0(x.wall)} ms | ${x.overEmpty === undefined ? '' : `${f0(x.overEmpty)} ms`} |`,
      ),
    );
  }
  return lines;
}
