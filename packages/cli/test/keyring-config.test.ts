/**
 * `--keyring` as the CLI reads it (findings 15.5, 15.9 and 15.1 at the command line): JSON
 * errors give the position only; a readable configuration file holding a key inline is warned
 * about on stderr; plugins given as paths need ENVELOPE_ALLOW_PATH_PLUGINS=1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './helpers.js';

const dirs: string[] = [];
async function scratch(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'cli-keyring-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('--keyring', () => {
  it('15.5: a typo in inline --keyring JSON reports the position, not the key', async () => {
    const key = `Q${randomBytes(32).toString('base64')}`; // a letter first: invalid from its first character
    const r = await run(['encrypt', '--keyring', `{"type":"raw-aes","namespace":"n","name":"k","key":${key}"}`], 'x');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('envelope: ENVELOPE_CONFIG: keyring: invalid JSON (line 1, column 52)\n');
    expect(r.stderr).not.toContain(key.slice(0, 8));
  });

  it('15.5: the same for branch-keys --store, whose configuration may hold credentials', async () => {
    const secret = `Q${randomBytes(30).toString('base64')}`;
    const r = await run(['branch-keys', 'create-store', '--store', `{"tableName":"t","credentials":{"secretAccessKey":${secret}"}}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('envelope: ENVELOPE_CONFIG: store: invalid JSON (line 1, column 51)\n');
    expect(r.stderr).not.toContain(secret.slice(0, 8));
  });

  it('15.9: a configuration file readable by others that holds a key inline: a warning on stderr, and the command works', async () => {
    const dir = await scratch();
    const file = path.join(dir, 'k.json');
    await writeFile(file, JSON.stringify({ type: 'raw-aes', namespace: 'n', name: 'k', key: randomBytes(32).toString('base64') }));
    await chmod(file, 0o644);
    const r = await run(['encrypt', '--keyring', file, '--suite', '0x0478'], 'x');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^envelope: warning: ENVELOPE_CONFIG_PERMISSIONS: keyring\.key: ".*k\.json" holds key material and is readable by group or others \(mode 644\); chmod 600 it, or move the key to a key file\n$/,
    );
    await chmod(file, 0o600);
    const quiet = await run(['encrypt', '--keyring', file, '--suite', '0x0478'], 'x');
    expect(quiet.stderr).toBe('');
  });

  it('15.1: a plugin given as a path needs ENVELOPE_ALLOW_PATH_PLUGINS=1', async () => {
    const dir = await scratch();
    await writeFile(path.join(dir, 'plugin.mjs'), 'export default {};\n', { mode: 0o644 });
    const file = path.join(dir, 'k.json');
    await writeFile(file, JSON.stringify({ plugins: ['./plugin.mjs'], keyring: { type: 'x' } }), { mode: 0o600 });
    const refused = await run(['encrypt', '--keyring', file], 'x');
    expect(refused.stderr).toMatch(
      /ENVELOPE_CONFIG: plugins\[0\]: plugin "\.\/plugin\.mjs" is a path; loading code from a path needs an explicit opt-in/,
    );
    const allowed = await run(['encrypt', '--keyring', file], 'x', { ENVELOPE_ALLOW_PATH_PLUGINS: '1' });
    expect(allowed.stderr).toMatch(/ENVELOPE_CONFIG: plugins\[0\]: plugin "\.\/plugin\.mjs" does not export a config module/);
  });
});
