/**
 * Issue 14 ("memory stays bounded whatever the size"): output to stdout waits for a slow reader.
 * The input here pauses after every 64 KiB chunk (as `cat f |` does), so every chunk takes the
 * "input paused: write what is here" path; stdout takes a batch only when the test lets it. Before
 * the fix each pause handed a new write to stdout without waiting for the last one, so what
 * stdout held grew with the input (a 600 MiB encrypt into a slow pipe peaked at 705 MB).
 */
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StdoutSink } from '../src/stdout-sink.js';
import { WRITE_BATCH_BYTES } from '../src/output.js';

const CHUNK = 64 * 1024;

/** A stdout whose reader takes one write every few turns of the event loop. */
function slowStdout() {
  const queue: (() => void)[] = [];
  const got: Buffer[] = [];
  const state = { outstanding: 0, maxOutstanding: 0, writes: 0 };
  const out = {
    write(buf: Buffer, cb: (e?: Error | null) => void): boolean {
      state.writes++;
      state.outstanding += buf.byteLength;
      state.maxOutstanding = Math.max(state.maxOutstanding, state.outstanding);
      queue.push(() => {
        state.outstanding -= buf.byteLength;
        got.push(buf);
        cb();
      });
      return false;
    },
  } as unknown as NodeJS.WritableStream;
  let turns = 0;
  let stopped = false;
  const reader = (): void => {
    if (stopped) return;
    if (++turns % 8 === 0) queue.shift()?.();
    setImmediate(reader);
  };
  setImmediate(reader);
  return { out, got, state, stop: () => (stopped = true) };
}

/** `chunks` chunks of 64 KiB, one per turn of the event loop; chunk i is filled with i & 255. */
function pausingInput(chunks: number): Readable {
  let i = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      setImmediate(() => this.push(i < chunks ? Buffer.alloc(CHUNK, i++ & 255) : null));
    },
  });
}

describe('StdoutSink and a slow reader (issue 14: bounded memory)', () => {
  it('holds at most about two batches for stdout, however much comes in; every byte arrives in order', async () => {
    const chunks = 1024; // 64 MiB: 16 batches
    const stdout = slowStdout();
    await pipeline(pausingInput(chunks), new StdoutSink(stdout.out));
    stdout.stop();
    const all = Buffer.concat(stdout.got);
    expect(all.byteLength).toBe(chunks * CHUNK);
    for (let i = 0; i < chunks; i += 97) expect(all[i * CHUNK + 1000]).toBe(i & 255);
    expect(stdout.state.maxOutstanding).toBeLessThanOrEqual(2 * WRITE_BATCH_BYTES + CHUNK);
    expect(stdout.state.outstanding).toBe(0);
  });

  it('a fast reader still gets batches, not a write per chunk', async () => {
    const chunks = 256;
    let writes = 0;
    const got: Buffer[] = [];
    const out = {
      write(buf: Buffer, cb: (e?: Error | null) => void): boolean {
        writes++;
        got.push(buf);
        setImmediate(cb);
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    // All the input at once (no pause): 16 MiB in 4 MiB batches.
    await pipeline(Readable.from(Array.from({ length: chunks }, (_, i) => Buffer.alloc(CHUNK, i & 255))), new StdoutSink(out));
    expect(Buffer.concat(got).byteLength).toBe(chunks * CHUNK);
    expect(writes).toBeLessThanOrEqual(8);
  });
});
