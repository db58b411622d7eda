// What users expect of a command line: --version, every option in --help, one error shape
// (`envelope: ENVELOPE_<CODE>: message`, never a stack or a bare errno), output problems found
// before any work, --no-overwrite.
import { describe, expect, it } from 'vitest';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { aesConfig, run, scratch } from './helpers.js';
import { CRYPT_OPTIONS, ONLY } from '../src/commands/crypt.js';
import { ENCRYPT_HELP } from '../src/commands/encrypt.js';
import { DECRYPT_HELP } from '../src/commands/decrypt.js';
import { REWRAP_HELP, REWRAP_OPTIONS } from '../src/commands/rewrap.js';
import { INSPECT_HELP, INSPECT_OPTIONS } from '../src/commands/inspect.js';
import { POLICY_HELP, POLICY_OPTIONS } from '../src/commands/policy.js';
import { DEMO_HELP, DEMO_OPTIONS } from '../src/commands/demo.js';

const SHAPE = /^envelope: ENVELOPE_[A-Z_]+: [^\n]+\n$/;

describe('conventions', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    const r = await run(['--version']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.toString()).toBe(`envelope ${pkg.version}\n`);
  });

  it('every option of every command is in its --help, short forms included', async () => {
    type Options = Record<string, { type: string; short?: string }>;
    const cases: [string, Options, string][] = [
      ['encrypt', omit(CRYPT_OPTIONS, ONLY.decrypt), ENCRYPT_HELP],
      ['decrypt', omit(CRYPT_OPTIONS, ONLY.encrypt), DECRYPT_HELP],
      ['rewrap', REWRAP_OPTIONS, REWRAP_HELP],
      ['inspect', INSPECT_OPTIONS, INSPECT_HELP],
      ['policy', POLICY_OPTIONS, POLICY_HELP],
      ['demo', DEMO_OPTIONS, DEMO_HELP],
    ];
    for (const [command, options, help] of cases) {
      const shown = (await run([command, '--help'])).stdout.toString();
      expect(shown).toBe(help);
      for (const [name, o] of Object.entries(options)) {
        const line = help.split('\n').find((l) => new RegExp(`^\\s+(-\\w, )?--${name}\\b`).test(l));
        expect(line, `${command} --help lists --${name}`).toBeDefined();
        if (o.short)
          expect(line, `${command} --help shows -${o.short} for --${name}`).toMatch(new RegExp(`^\\s+-${o.short}, --${name}\\b`));
      }
    }
  });

  it('every error has one shape: the issue-14 cases', async () => {
    const dir = await scratch('envelope-conv-');
    const k = aesConfig();
    const input = path.join(dir, 'in.txt');
    await writeFile(input, 'hello');
    const cases: [string[], RegExp][] = [
      [
        ['encrypt', '--keyring', k, '-c', `a=${'x'.repeat(70_000)}`, '--in', input, '--out', path.join(dir, 'c')],
        /ENVELOPE_USAGE: -c: pair 1 is longer than 65535 bytes/,
      ],
      [['encrypt', '--keyring', k, '--in', input, '--out', dir], /ENVELOPE_OUTPUT: .*: is a directory; give a file name/],
      [
        ['encrypt', '--keyring', k, '--in', input, '--out', path.join(dir, 'missing', 'dir', 'x')],
        /ENVELOPE_OUTPUT: .*x: the directory .*dir does not exist/,
      ],
      [['encrypt', '--keyring', k, '--in', input, '--out', path.join(input, 'x')], /ENVELOPE_OUTPUT: .*in\.txt is not a directory/],
      [['encrypt', '--keyring', k, '--in', path.join(dir, 'nope')], /ENVELOPE_IO: --in .*nope: no such file/],
      [['demo', '--size', 'abc'], /ENVELOPE_USAGE: --size expects an integer/],
      [['encrypt', '--frobnicate'], /ENVELOPE_USAGE: Unknown option '--frobnicate'/],
      // parseArgs explains this one over three lines: one line here.
      [
        ['encrypt', '--keyring', k, '--frame-length', '-1'],
        /ENVELOPE_USAGE: Option '--frame-length' argument is ambiguous\. Did you forget/,
      ],
      [['encrypt'], /ENVELOPE_USAGE: --keyring is required/],
      [['encrypt', '--keyring', k, 'stray'], /ENVELOPE_USAGE: unexpected argument "stray"/],
      [['encrypt', '--keyring', k, '--release-unverified'], /ENVELOPE_USAGE: --release-unverified is not an option of encrypt/],
      [['frobnicate'], /ENVELOPE_USAGE: unknown command "frobnicate"/],
      [['decrypt', '--keyring', k, '--in', input], /ENVELOPE_NOT_A_MESSAGE: not an envelope message[:(]/],
      [['inspect', '--in', input], /ENVELOPE_NOT_A_MESSAGE: not an envelope message/],
      [['encrypt', '--keyring', k, '--concurrency', '0', '-r'], /ENVELOPE_USAGE: --concurrency expects an integer from 1 to 256/],
      [['encrypt', '--keyring', '/no/such/keyring.json', '--in', input], /ENVELOPE_CONFIG: keyring: cannot read/],
    ];
    for (const [argv, re] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ').slice(0, 80)).toBe(1);
      expect(r.stderr, argv.join(' ').slice(0, 80)).toMatch(SHAPE);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\bat .+:\d+:\d+|xxxxxxxxxx/);
    }
    // Nothing was written by any of them.
    expect(await readdir(dir)).toEqual(['in.txt']);
  });

  it('output problems are found before any work: no keyring is read, no input consumed', async () => {
    const dir = await scratch('envelope-conv-');
    // The keyring file does not exist: had the command read it, the error would be ENVELOPE_CONFIG.
    const r = await run(['encrypt', '--keyring', path.join(dir, 'absent.json'), '--out', path.join(dir, 'no', 'x')], 'data');
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_OUTPUT: /);
    const d = await run(['decrypt', '--keyring', path.join(dir, 'absent.json'), '--out', dir], 'data');
    expect(d.stderr).toMatch(/^envelope: ENVELOPE_OUTPUT: .*is a directory/);
  });

  it('a decrypt whose -c pair is not in the message says so (not "AES-GCM authentication failed")', async () => {
    const k = aesConfig();
    const enc = await run(['encrypt', '--keyring', k, '-c', 'tenant=acme'], 'x');
    const r = await run(['decrypt', '--keyring', k, '-c', 'tenant=acme', '-c', 'region=eu'], enc.stdout);
    expect(r.stderr).toMatch(SHAPE);
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH: context pair "region" not in the message/);
  });

  it('15.5: a typo in inline --keyring JSON reports the position only, never the text around it', async () => {
    const key = `Q${randomBytes(30).toString('base64')}`; // starts with a letter: invalid from its first character
    const prefix = '{"type":"raw-aes","namespace":"n","name":"k","key":';
    const r = await run(['encrypt', '--keyring', `${prefix}${key}"}`], 'x');
    expect(r.stderr).toBe(`envelope: ENVELOPE_CONFIG: keyring: invalid JSON (line 1, column ${prefix.length + 1})\n`);
    expect(r.stderr).not.toContain(key.slice(0, 8));
    const cut = await run(['encrypt', '--keyring', `{"type":"raw-aes","key":"${key}"`], 'x');
    expect(cut.stderr).toMatch(/invalid JSON \(unexpected end at line 1, column \d+\)\n$/);
    expect(cut.stderr).not.toContain(key.slice(0, 8));
  });

  it('--no-overwrite refuses an existing output and leaves it untouched; without it the file is replaced', async () => {
    const dir = await scratch('envelope-conv-');
    const k = aesConfig();
    const out = path.join(dir, 'c.enc');
    await writeFile(out, 'precious');
    const r = await run(['encrypt', '--keyring', k, '--out', out, '--no-overwrite'], 'data');
    expect(r.stderr).toBe(`envelope: ENVELOPE_EXISTS: ${out}: already exists (--no-overwrite)\n`);
    expect(await readFile(out, 'utf8')).toBe('precious');
    expect((await run(['encrypt', '--keyring', k, '--out', out], 'data')).code).toBe(0);
    expect(await readFile(out, 'utf8')).not.toBe('precious');
    expect(await readdir(dir)).toEqual(['c.enc']);
  });

  it('--json and --metadata-output for a single file; they need --out when stdout carries data', async () => {
    const dir = await scratch('envelope-conv-');
    const k = aesConfig();
    const r = await run(
      ['encrypt', '--keyring', k, '--out', path.join(dir, 'c'), '--json', '--metadata-output', path.join(dir, 'm')],
      'data',
    );
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ done: 1, failed: 0, warnings: [] });
    expect(JSON.parse(await readFile(path.join(dir, 'm'), 'utf8'))).toMatchObject({
      operation: 'encrypt',
      input: 'stdin',
      output: path.join(dir, 'c'),
    });
    const d = await run(['decrypt', '--keyring', k, '--in', path.join(dir, 'c'), '--out', path.join(dir, 'p'), '--metadata-output', '-']);
    expect(JSON.parse(d.stdout.toString())).toMatchObject({ operation: 'decrypt', output: path.join(dir, 'p') });
    expect((await run(['encrypt', '--keyring', k, '--json'], 'x')).stderr).toMatch(/ENVELOPE_USAGE: --json needs --out/);
    expect((await run(['decrypt', '--keyring', k, '--metadata-output', '-'], 'x')).stderr).toMatch(
      /ENVELOPE_USAGE: --metadata-output - needs --out/,
    );
  });
});

function omit<T extends Record<string, unknown>>(o: T, keys: readonly string[]): Record<string, { type: string; short?: string }> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k))) as Record<string, { type: string; short?: string }>;
}
