/**
 * Finding 15.1: plugin code from the working directory. Package names resolve from the
 * installation only; paths load only with an explicit opt-in, and only from files and
 * directories no one else can write; the checks run before anything is imported.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decrypt, encrypt } from '@envelope/core';
import { buildKeyring, createRegistry } from '../src/index.js';
import { scratchDirs } from './helpers/scratch.js';

const scratch = scratchDirs('cfg-plugin-');

/** A module that records that it ran, then exports a working plugin (the brand works across copies). */
function pluginSource(marker: string): string {
  return `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(marker)}, 'ran');
export default { [Symbol.for('envelope.config-module')]: true, register(b) {
  b.keyring({ type: 'path-plugin', schema: { '~standard': { version: 1, vendor: 't', validate: (v) => ({ value: v }) } },
    create: () => ({ onEncrypt: async (m) => m, onDecrypt: async (m) => m }) });
} };
`;
}

/** Plants `node_modules/<name>` in `dir`: a package whose import writes `marker`. */
async function plantPackage(dir: string, name: string, marker: string): Promise<void> {
  const pkg = path.join(dir, 'node_modules', ...name.split('/'));
  await mkdir(pkg, { recursive: true });
  await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name, type: 'module', main: 'index.js' }));
  await writeFile(path.join(pkg, 'index.js'), pluginSource(marker));
}

const envKeyring = { type: 'env-aes', namespace: 'app', name: 'k1', variable: 'APP_KEY' };

describe('15.1: plugin code from the working directory', () => {
  it("15.1: a package name never resolves from the configuration file's directory", async () => {
    const dir = await scratch();
    const marker = path.join(dir, 'ran');
    await plantPackage(dir, '@envelope/keyring-env', marker);
    const env = { APP_KEY: randomBytes(32).toString('base64') };
    // The trusted configuration names the real plugin; a planted copy beside the file must not run.
    const k = await buildKeyring({ plugins: ['@envelope/keyring-env'], keyring: envKeyring }, { baseDir: dir, env });
    expect(existsSync(marker)).toBe(false);
    const { ciphertext } = await encrypt(Buffer.from('x'), { keyring: k, suite: 0x0478 });
    expect(Buffer.from((await decrypt(ciphertext, { keyring: k })).plaintext).toString()).toBe('x');
  });

  it('15.1: a package name never resolves from the working directory', async () => {
    const dir = await scratch();
    const marker = path.join(dir, 'ran');
    await plantPackage(dir, 'envelope-planted-plugin', marker);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const err = await buildKeyring({ plugins: ['envelope-planted-plugin'], keyring: { type: 'path-plugin' } }).catch((e: Error) => e);
      expect(err).toMatchObject({ code: 'ENVELOPE_CONFIG' });
      expect((err as Error).message).toMatch(/^plugins\[0\]: cannot load plugin "envelope-planted-plugin": it is not installed beside /);
    } finally {
      process.chdir(cwd);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('15.1: a path plugin is refused without the opt-in, relative or absolute, before it is imported', async () => {
    const dir = await scratch();
    const marker = path.join(dir, 'ran');
    await writeFile(path.join(dir, 'plugin.mjs'), pluginSource(marker), { mode: 0o644 });
    for (const name of ['./plugin.mjs', path.join(dir, 'plugin.mjs'), `file://${path.join(dir, 'plugin.mjs')}`]) {
      const err = await buildKeyring({ plugins: [name], keyring: { type: 'path-plugin' } }, { baseDir: dir }).catch((e: Error) => e);
      expect((err as Error).message).toMatch(/^plugins\[0\]: plugin ".*" is a path; loading code from a path needs an explicit opt-in/);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('15.1: with the opt-in, a path plugin loads only when neither it nor its directory is writable by others', async () => {
    const dir = await scratch();
    const marker = path.join(dir, 'ran');
    const file = path.join(dir, 'plugin.mjs');
    await writeFile(file, pluginSource(marker), { mode: 0o644 });
    const build = () =>
      buildKeyring({ plugins: ['./plugin.mjs'], keyring: { type: 'path-plugin' } }, { baseDir: dir, allowPathPlugins: true });

    await chmod(file, 0o666);
    await expect(build()).rejects.toThrow(/^plugins\[0\]: plugin "\.\/plugin\.mjs": the file is writable by group or others \(mode 666\)/);
    await chmod(file, 0o644);
    await chmod(dir, 0o777);
    await expect(build()).rejects.toThrow(
      /^plugins\[0\]: plugin "\.\/plugin\.mjs": its directory is writable by group or others \(mode 777\)/,
    );
    expect(existsSync(marker)).toBe(false);

    await chmod(dir, 0o755);
    expect(await build()).toBeDefined();
    expect(existsSync(marker)).toBe(true);
  });

  it('15.1: a symbolic link to a plugin is judged by the file it points to', async () => {
    const dir = await scratch();
    const open = await scratch();
    await chmod(open, 0o777);
    const marker = path.join(dir, 'ran');
    await writeFile(path.join(open, 'plugin.mjs'), pluginSource(marker), { mode: 0o644 });
    const { symlink } = await import('node:fs/promises');
    await symlink(path.join(open, 'plugin.mjs'), path.join(dir, 'link.mjs'));
    await expect(
      buildKeyring({ plugins: ['./link.mjs'], keyring: { type: 'path-plugin' } }, { baseDir: dir, allowPathPlugins: true }),
    ).rejects.toThrow(/its directory is writable by group or others \(mode 777\)/);
    expect(existsSync(marker)).toBe(false);
  });

  it('15.1: URLs of other kinds are refused (data:, http:, node:)', async () => {
    const code = Buffer.from(pluginSource('/nonexistent/ran')).toString('base64');
    for (const name of [`data:text/javascript;base64,${code}`, 'http://example.com/x.js', 'node:fs']) {
      await expect(createRegistry({ allowPathPlugins: true }).loadPlugins([name])).rejects.toThrow(
        /^plugins\[0\]: plugin ".*" is neither a package name nor a path/,
      );
    }
  });

  it('15.1: the host names the installation plugins resolve from', async () => {
    const dir = await scratch();
    const marker = path.join(dir, 'ran');
    await plantPackage(dir, 'envelope-host-plugin', marker);
    // A host (the CLI passes its own module URL) whose node_modules holds the plugin.
    const registry = createRegistry({ pluginsFrom: path.join(dir, 'host.js') });
    await registry.loadPlugins(['envelope-host-plugin']);
    expect(registry.types()).toContain('path-plugin');
    expect(existsSync(marker)).toBe(true);
  });
});
