/**
 * The bundled CLI (scripts/bundle.mjs → dist/bundle/, issue 16): the launcher runs the bundle
 * only while every package it was made from is unchanged, the built CLI does run from it, and what
 * the bundle changes (a second copy of @envelope/core beside a plugin's, the frame worker's path)
 * works through the real launcher.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { aesConfig, bin, scratch } from './helpers.js';

const LAUNCHER = fileURLToPath(new URL('../bin/envelope.js', import.meta.url));
const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const tmp = (): Promise<string> => scratch('envelope-cli-bundle-');

function node(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the launcher chooses the bundle only while it is fresh', () => {
  /** A copy of the real launcher over a fake dist/ and dist/bundle/ made from one package. */
  async function layout(): Promise<{ run: () => Promise<string>; input: string; manifest: string }> {
    const root = await tmp();
    const cli = path.join(root, 'cli');
    await mkdir(path.join(cli, 'bin'), { recursive: true });
    await mkdir(path.join(cli, 'dist', 'bundle'), { recursive: true });
    await mkdir(path.join(root, 'core', 'dist'), { recursive: true });
    await copyFile(LAUNCHER, path.join(cli, 'bin', 'envelope.js'));
    await writeFile(path.join(cli, 'package.json'), '{"type":"module"}');
    const entry = (which: string) => `export async function cli() { process.stdout.write('${which}'); return 0; }\n`;
    await writeFile(path.join(cli, 'dist', 'main.js'), entry('dist'));
    await writeFile(path.join(cli, 'dist', 'bundle', 'main.js'), entry('bundle'));
    const input = path.join(root, 'core', 'dist', '.tsbuildinfo');
    await writeFile(input, '{"version":"5.9.3"}');
    const st = await stat(input);
    const sha256 = createHash('sha256')
      .update(await readFile(input))
      .digest('hex');
    const manifest = path.join(cli, 'dist', 'bundle', 'manifest.json');
    await writeFile(manifest, JSON.stringify({ inputs: [['../../../core/dist/.tsbuildinfo', st.size, Math.ceil(st.mtimeMs), sha256]] }));
    return {
      input,
      manifest,
      run: async () => {
        const r = await node([path.join(cli, 'bin', 'envelope.js'), '--version']);
        expect(r.stderr).toBe('');
        return r.stdout;
      },
    };
  }

  it('runs the bundle while its inputs are unchanged', async () => {
    const l = await layout();
    expect(await l.run()).toBe('bundle');
  });

  it('runs the bundle when an input was only touched (a restore from a build cache)', async () => {
    const l = await layout();
    const later = new Date(Date.now() + 60_000);
    await utimes(l.input, later, later);
    expect(await l.run()).toBe('bundle');
  });

  it('runs dist/ once an input has another size, other bytes, or is gone', async () => {
    const l = await layout();
    await writeFile(l.input, '{"version":"5.9.30"}');
    expect(await l.run()).toBe('dist');

    const m = await layout();
    await writeFile(m.input, '{"version":"5.9.4"}');
    const later = new Date(Date.now() + 60_000);
    await utimes(m.input, later, later);
    expect(await m.run()).toBe('dist');

    const g = await layout();
    await rm(g.input);
    expect(await g.run()).toBe('dist');
  });

  it('runs dist/ when the manifest is missing, unreadable or empty', async () => {
    const a = await layout();
    await rm(a.manifest);
    expect(await a.run()).toBe('dist');
    const b = await layout();
    await writeFile(b.manifest, '{"inputs": [');
    expect(await b.run()).toBe('dist');
    const c = await layout();
    await writeFile(c.manifest, '{"inputs": []}');
    expect(await c.run()).toBe('dist');
  });
});

describe('the built CLI', () => {
  it('runs from its bundle (stale after a tsc -b alone: npm test rebuilds it)', async () => {
    const dir = await tmp();
    const trace = path.join(dir, 'trace.txt');
    const hooks = path.join(dir, 'hooks.mjs');
    await writeFile(
      hooks,
      `import { appendFileSync } from 'node:fs';\n` +
        `export async function load(url, context, next) { appendFileSync(${JSON.stringify(trace)}, url + '\\n'); return next(url, context); }\n`,
    );
    const register = path.join(dir, 'register.mjs');
    await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const r = await node(['--import', pathToFileURL(register).href, bin(), '--version']);
    expect(r.stdout).toMatch(/^envelope \d+\.\d+\.\d+/);
    const loaded = (await readFile(trace, 'utf8')).split('\n');
    const ours = loaded.filter((u) => u.startsWith(pathToFileURL(PACKAGES).href));
    if (!ours.some((u) => u.endsWith('/cli/dist/bundle/main.js'))) {
      throw new Error('the CLI did not run from packages/cli/dist/bundle (missing or stale): `npm run build -w @envelope/cli` rebuilds it');
    }
    // Nothing of dist/ itself: the bundle carries every @envelope module it needs.
    expect(ours.filter((u) => !u.includes('/cli/dist/bundle/') && !u.endsWith('/cli/bin/envelope.js'))).toEqual([]);
  });

  it('runs a plugin keyring (its own @envelope/core) and prints its errors coded', async () => {
    const dir = await tmp();
    const core = pathToFileURL(path.join(PACKAGES, 'core', 'dist', 'index.js')).href;
    const config = pathToFileURL(path.join(PACKAGES, 'config', 'dist', 'index.js')).href;
    await writeFile(
      path.join(dir, 'failing.mjs'),
      `import { EnvelopeError } from ${JSON.stringify(core)};\n` +
        `import { defineKeyringProvider, keyringProviderModule, s } from ${JSON.stringify(config)};\n` +
        `const down = () => { throw new EnvelopeError('ENVELOPE_KMS', 'the plugin keyring is down'); };\n` +
        `export default keyringProviderModule(defineKeyringProvider({\n` +
        `  type: 'failing', schema: s.object({ type: s.literal('failing') }),\n` +
        `  create: () => ({ onEncrypt: async () => down(), onDecrypt: async () => down() }),\n` +
        `}));\n`,
      { mode: 0o644 },
    );
    const conf = path.join(dir, 'keyring.json');
    await writeFile(conf, JSON.stringify({ plugins: ['./failing.mjs'], keyring: { type: 'failing' } }), { mode: 0o600 });
    await writeFile(path.join(dir, 'pt'), 'hello');
    const r = await node([bin(), 'encrypt', '--keyring', conf, '--in', path.join(dir, 'pt'), '--out', path.join(dir, 'ct')], {
      ENVELOPE_ALLOW_PATH_PLUGINS: '1',
    });
    expect(r.stderr).toMatch(/^envelope: ENVELOPE_KMS: .*the plugin keyring is down/m);
    expect(r.stderr).not.toMatch(/ENVELOPE_INTERNAL/);
    expect(r.code).toBe(1);
  });

  it('seals and opens frames on worker threads from the bundle', async () => {
    const dir = await tmp();
    const f = (n: string) => path.join(dir, n);
    const pt = randomBytes(300_000);
    await writeFile(f('pt'), pt);
    const k = aesConfig();
    const env = { ENVELOPE_FRAME_WORKERS: '2', ENVELOPE_FRAME_WORKERS_MIN_BYTES: '0' };
    const e = await node([bin(), 'encrypt', '--keyring', k, '--frame-length', '1024', '--in', f('pt'), '--out', f('ct')], env);
    expect(e.stderr).toBe('');
    const d = await node([bin(), 'decrypt', '--keyring', k, '--in', f('ct'), '--out', f('back')], env);
    expect(d.stderr).toBe('');
    expect((await readFile(f('back'))).equals(pt)).toBe(true);
  });
});
