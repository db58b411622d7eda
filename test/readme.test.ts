/**
 * The README's examples, run as written: the shell tour (through bash, in the repository root)
 * and the TypeScript tour (as an ES module against the built packages).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = (lang: string) => [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
const built = existsSync(path.join(root, 'packages/cli/dist/main.js'));

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { cwd, timeout: 60_000, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe('README examples (need dist: npm test builds first)', () => {
  it.skipIf(!built)('the shell tour runs and round-trips', async () => {
    const tour = blocks('sh').find((b) => b.includes('envelope encrypt'))!;
    expect(tour).toBeDefined();
    const dir = await mkdtemp(path.join(root, '.tmp-readme-'));
    // Run the tour as written, in a scratch directory inside the repository (so npx finds the bin).
    const r = await run('bash', ['-euo', 'pipefail', '-c', tour], dir);
    expect(r.stderr.replace(/npm warn.*\n/g, '')).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hello');
    expect(r.stdout).toMatch(/suite:\s+0x0578/);
    await run('rm', ['-rf', dir], root);
  });

  it.skipIf(!built)('the TypeScript tour runs', async () => {
    const tour = blocks('ts')[0]!;
    const file = path.join(root, 'test', '.readme-tour.mjs');
    await writeFile(file, `${tour}\nif (Buffer.from(plaintext).toString() !== 'hello' || encryptionContext.tenant !== 'acme') throw new Error('tour failed');\nconsole.log('tour ok');\n`);
    const r = await run(process.execPath, [file], root);
    await run('rm', ['-f', file], root);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('tour ok');
  });
});
