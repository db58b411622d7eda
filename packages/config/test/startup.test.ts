/**
 * Issue 16 point 1, the configuration side: what loads for a raw keyring. A fresh Node process
 * (the built package, as the CLI uses it) records every ES module it loads; building a raw-aes
 * materials manager and encrypting must load neither the AWS SDK, zod, inversify, the KMS or
 * multi-region keyrings, nor the caching package. The same process then builds an aws-kms
 * keyring, which must load the SDK: proof that the probe sees lazy loads. No timing here;
 * start-up time is measured in bench/startup.mjs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); }
`;

const SCRIPT = `import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { encrypt } from '@envelope/core';
import { buildMaterialsManager, buildKeyring } from '@envelope/config';
const out = process.env.PROBE_OUT;
const mm = await buildMaterialsManager({ type: 'raw-aes', namespace: 'n', name: 'k', key: randomBytes(32).toString('base64') });
await encrypt(Buffer.alloc(100), { materialsManager: mm });
appendFileSync(out, '--- kms\\n');
await buildKeyring({ type: 'aws-kms', keyId: 'arn:aws:kms:us-east-1:111122223333:key/k' });
`;

function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { cwd: root, env }, (e, _stdout, stderr) =>
      e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(),
    ),
  );
}

describe('16.1: what loads for a raw keyring', () => {
  it('16.1: a raw-aes build and encrypt load no AWS SDK, zod, inversify, KMS keyrings or caching; aws-kms loads the SDK', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cfg-startup-'));
    dirs.push(dir);
    const out = path.join(dir, 'loaded.txt');
    await writeFile(path.join(dir, 'hooks.mjs'), HOOKS);
    const register = `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)}, { data: { out: ${JSON.stringify(out)} } });
`;
    await writeFile(path.join(dir, 'register.mjs'), register);
    await run(['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, '--input-type=module', '-e', SCRIPT], {
      ...process.env,
      PROBE_OUT: out,
    });
    const [raw, kms] = (await readFile(out, 'utf8')).split('--- kms\n') as [string, string];
    const rawUrls = raw.trim().split('\n');
    expect(rawUrls.some((u) => u.includes('/config/dist/providers/raw-aes.js'))).toBe(true);
    for (const heavy of ['/@aws-sdk/', '/@smithy/', '/zod/', '/inversify/', '/keyring-kms/', '/keyring-multi-region/', '/caching/'])
      expect(rawUrls.filter((u) => u.includes(heavy))).toEqual([]);
    // Only the raw-aes provider of the built-ins was loaded.
    expect(rawUrls.filter((u) => u.includes('/config/dist/providers/')).map((u) => path.basename(u))).toEqual(['raw-aes.js']);
    expect(kms).toMatch(/\/@aws-sdk\/client-kms\//);
    expect(kms).toMatch(/\/keyring-kms\/dist\//);
  });
});
