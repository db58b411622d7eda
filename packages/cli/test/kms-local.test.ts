/**
 * `envelope kms-local`: every start-up failure is one coded line on stderr (15.8), a non-loopback
 * bind needs credentials of its own and --admin-token guards the admin API (15.7).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKmsLocal } from '@envelope/kms-local';
import { run } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const tmp = async (): Promise<string> => {
  const d = await mkdtemp(path.join(tmpdir(), 'cli-kms-local-'));
  dirs.push(d);
  return d;
};

/** Runs `envelope kms-local …` expecting a start-up failure: exit 1, one coded line, nothing on stdout. */
async function fails(args: string[]): Promise<string> {
  const r = await run(['kms-local', ...args]);
  expect(r.code).toBe(1);
  expect(r.stdout.toString()).toBe('');
  expect(r.stderr).toMatch(/^envelope: ENVELOPE_[A-Z_]+: [^\n]+\n$/);
  return r.stderr;
}

describe('15.8: kms-local start-up failures are coded errors', () => {
  it('15.8: a bad state file is "envelope: ENVELOPE_CONFIG: …", not "ERROR: …"', async () => {
    const dir = path.join(await tmp(), 'data');
    await mkdir(dir, { mode: 0o700 });
    await writeFile(path.join(dir, 'root.key'), Buffer.alloc(32, 3), { mode: 0o600 });
    await writeFile(path.join(dir, 'state.json'), '{"truncated":', { mode: 0o600 });
    expect(await fails(['--port', '0', '--data-dir', dir])).toMatch(
      /^envelope: ENVELOPE_CONFIG: kms-local: .*state\.json is not valid JSON; refusing to start over it\n$/,
    );
  });

  it.skipIf(process.platform === 'win32')('15.8: a data directory open to others, and a root.key readable by others', async () => {
    const dir = path.join(await tmp(), 'data');
    await mkdir(dir);
    await chmod(dir, 0o755);
    expect(await fails(['--port', '0', '--data-dir', dir])).toMatch(/^envelope: ENVELOPE_CONFIG: kms-local: .* \(mode 0755\)/);
    await chmod(dir, 0o700);
    await writeFile(path.join(dir, 'root.key'), Buffer.alloc(32, 3), { mode: 0o644 });
    expect(await fails(['--port', '0', '--data-dir', dir])).toMatch(/root\.key is accessible by group or others \(mode 0644\)/);
  });

  it('a busy port, bad option values', async () => {
    const busy = await startKmsLocal({ port: 0 });
    try {
      expect(await fails(['--port', String(busy.port)])).toMatch(/^envelope: ENVELOPE_CONFIG: kms-local: cannot listen on .*EADDRINUSE/);
    } finally {
      await busy.close();
    }
    expect(await fails(['--port', 'abc'])).toBe('envelope: ENVELOPE_INVALID_ARGUMENT: --port expects 0..65535\n');
    expect(await fails(['--port', '0', '--regions', 'mars-1'])).toMatch(/^envelope: ENVELOPE_INVALID_ARGUMENT: regions: "mars-1"/);
    expect(await fails(['--port', '0', '--account-id', '12'])).toMatch(/^envelope: ENVELOPE_INVALID_ARGUMENT: --account-id/);
    expect(await fails(['--port', '0', '--access-key-id', 'A'])).toMatch(/^envelope: ENVELOPE_INVALID_ARGUMENT: give both/);
    expect(await fails(['--port', '0', '--admin-token', 'short'])).toMatch(/^envelope: ENVELOPE_INVALID_ARGUMENT: adminToken/);
  });
});

describe('15.7: kms-local on the network, and its admin token', () => {
  it('15.7: --host 0.0.0.0 with the documentation credentials is refused', async () => {
    expect(await fails(['--port', '0', '--host', '0.0.0.0'])).toMatch(
      /^envelope: ENVELOPE_CONFIG: host: 0\.0\.0\.0 is not a loopback interface.*--access-key-id and --secret-access-key/,
    );
  });

  it('15.7: --admin-token T: admin requests need x-admin-token: T (a real process, over HTTP)', async () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    if (!existsSync(path.join(root, 'packages/cli/dist/main.js')))
      throw new Error('packages/cli/dist is missing: build first (npx tsc -b)');
    const bin = path.join(root, 'packages/cli/bin/envelope.js');
    const child = spawn(process.execPath, [bin, 'kms-local', '--port', '0', '--regions', 'us-east-1', '--admin-token', 'open-sesame-7'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.on('exit', () => reject(new Error(`kms-local exited: ${out}`)));
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^admin API: (http:\/\/\S+)\/_admin\/ \(loopback only; send the x-admin-token header\)$/m.exec(out);
          if (m) resolve(m[1]!);
        });
      });
      const put = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const r = request(`${url}/_admin/faults/us-east-1`, { method: 'PUT', headers, agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          });
          r.on('error', reject);
          r.end('{"mode":"none"}');
        });
      expect(await put({})).toBe(401);
      expect(await put({ 'x-admin-token': 'open-sesame-8' })).toBe(401);
      expect(await put({ 'x-admin-token': 'open-sesame-7' })).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
