import { PassThrough, Readable } from 'node:stream';
import { main } from '../src/main.js';

/** Runs the CLI in-process with the given stdin; returns exit code, stdout and stderr. */
export async function run(
  argv: string[],
  stdin: Uint8Array | string = '',
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdin: Readable.from([Buffer.from(stdin)]), stdout, stderr, env });
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
}
