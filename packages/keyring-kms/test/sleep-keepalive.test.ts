/**
 * A retry's backoff keeps its process alive: a program whose only pending work is a sleep on the
 * real clock (a CLI awaiting a KMS or DynamoDB call between attempts) runs to its end, where
 * unref'd timers alone would let Node exit in the middle with code 13 and no message.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('sleep on the system clock', () => {
  it('holds the process open until it ends (a top-level await of it completes, exit 0)', () => {
    const program = `const { sleep, systemClock } = await import(${JSON.stringify(dist)});
await sleep(systemClock, 30);
process.stdout.write('slept');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'slept', '']);
  });

  it('an aborted sleep releases the process at once', () => {
    const program = `const { sleep, systemClock } = await import(${JSON.stringify(dist)});
const ctl = new AbortController();
const p = sleep(systemClock, 3_600_000, ctl.signal).catch(() => process.stdout.write('aborted'));
ctl.abort();
await p;`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: 20_000 });
    expect([r.status, r.stdout]).toEqual([0, 'aborted']);
  });
});
