// The file pump (file-pump.ts): a regular file into --out without streams. Same messages as the
// stream path, both directions, signed and unsigned; a FIFO still goes through a stream; a
// tampered file leaves nothing; and the pump gives the event loop (signals) a turn every few
// MiB instead of holding it for the whole file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { StreamEncryptor, decrypt } from '@envelope/core';
import { RawAesKeyring } from '@envelope/keyring-local';
import { run, spawnCli } from './helpers.js';
import { encryptFile, openInputFd } from '../src/file-pump.js';
import { BatchedFdWriter, FILE_BATCH_BYTES, WRITEBACK_BYTES, openFileOutput } from '../src/output.js';

const MiB = 1024 * 1024;
let dir: string;
let keyFile: string;
let keyring: RawAesKeyring;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'envelope-pump-'));
  const key = randomBytes(32);
  keyring = new RawAesKeyring({ keyNamespace: 'pump', keyName: 'k', wrappingKey: key });
  keyFile = path.join(dir, 'k.json');
  await writeFile(keyFile, JSON.stringify({ type: 'raw-aes', namespace: 'pump', name: 'k', key: key.toString('base64') }), { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const debug = { ENVELOPE_DEBUG_EVENTS: '1' };

describe('file pump', () => {
  for (const [suite, frame] of [
    ['0x0478', 65536],
    ['0x0578', 4096],
    ['0x0478', 1000],
  ] as const) {
    it(`round trip through --in/--out: suite ${suite}, frame ${frame}, reads not aligned to frames`, async () => {
      const work = await mkdtemp(path.join(dir, 'rt-'));
      const pt = randomBytes(3 * MiB + 12345);
      const f = (n: string) => path.join(work, n);
      await writeFile(f('pt'), pt);
      const e = await run(
        ['encrypt', '--keyring', keyFile, '--suite', suite, '--frame-length', String(frame), '--in', f('pt'), '--out', f('ct')],
        '',
        debug,
      );
      expect(e.code).toBe(0);
      expect(e.stderr).toMatch(/^envelope: debug: pump /m);
      const ct = await readFile(f('ct'));
      expect(Buffer.from((await decrypt(ct, { keyring })).plaintext).equals(pt)).toBe(true);
      const d = await run(['decrypt', '--keyring', keyFile, '--in', f('ct'), '--out', f('back')], '', debug);
      expect(d.code).toBe(0);
      expect(d.stderr).toMatch(/^envelope: debug: pump /m);
      expect((await readFile(f('back'))).equals(pt)).toBe(true);
      expect((await readdir(work)).sort()).toEqual(['back', 'ct', 'pt']);
    });
  }

  for (const suite of ['0x0478', '0x0578'] as const) {
    it(`a file to stdout and back, both directions through the pump: suite ${suite}`, async () => {
      const work = await mkdtemp(path.join(dir, 'stdout-'));
      const f = (n: string) => path.join(work, n);
      const pt = randomBytes(2 * MiB + 99);
      await writeFile(f('pt'), pt);
      const e = await run(['encrypt', '--keyring', keyFile, '--suite', suite, '--frame-length', '4096', '--in', f('pt')], '', debug);
      expect(e.code).toBe(0);
      expect(e.stderr).toMatch(/^envelope: debug: pump /m);
      expect(Buffer.from((await decrypt(e.stdout, { keyring })).plaintext).equals(pt)).toBe(true);
      await writeFile(f('ct'), e.stdout);
      const d = await run(['decrypt', '--keyring', keyFile, '--in', f('ct')], '', debug);
      expect(d.code).toBe(0);
      expect(d.stderr).toMatch(/^envelope: debug: pump /m);
      // A signed message's plaintext waits in the private spool until the signature verifies.
      if (suite === '0x0578') expect(d.stderr).toMatch(/^envelope: debug: spool stdout/m);
      else expect(d.stderr).not.toMatch(/debug: spool/);
      expect(d.stdout.equals(pt)).toBe(true);
    });
  }

  it('a signed message tampered at its end, to stdout: nothing reaches stdout', async () => {
    const work = await mkdtemp(path.join(dir, 'stdout-tamper-'));
    const f = (n: string) => path.join(work, n);
    const pt = randomBytes(6 * MiB); // more than a stdout batch (4 MiB): without the spool, some would be out
    await writeFile(f('pt'), pt);
    expect((await run(['encrypt', '--keyring', keyFile, '--suite', '0x0578', '--in', f('pt'), '--out', f('ct')])).code).toBe(0);
    const ct = await readFile(f('ct'));
    ct[ct.byteLength - 10]! ^= 1; // inside the signature
    await writeFile(f('ct'), ct);
    const d = await run(['decrypt', '--keyring', keyFile, '--in', f('ct')]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/^envelope: ENVELOPE_AUTHENTICATION_FAILED: /m);
    expect(d.stdout.byteLength).toBe(0);
  });

  it('an empty file: one empty final frame, and back', async () => {
    const work = await mkdtemp(path.join(dir, 'empty-'));
    const f = (n: string) => path.join(work, n);
    await writeFile(f('pt'), '');
    expect((await run(['encrypt', '--keyring', keyFile, '--in', f('pt'), '--out', f('ct')])).code).toBe(0);
    expect((await run(['decrypt', '--keyring', keyFile, '--in', f('ct'), '--out', f('back')])).code).toBe(0);
    expect((await readFile(f('back'))).byteLength).toBe(0);
  });

  it('a tampered file: coded error, no output, no temporary', async () => {
    const work = await mkdtemp(path.join(dir, 'tamper-'));
    const f = (n: string) => path.join(work, n);
    await writeFile(f('pt'), randomBytes(2 * MiB));
    expect((await run(['encrypt', '--keyring', keyFile, '--in', f('pt'), '--out', f('ct')])).code).toBe(0);
    const ct = await readFile(f('ct'));
    ct[ct.byteLength - 100]! ^= 1; // inside the final frame's ciphertext
    await writeFile(f('ct'), ct);
    const d = await run(['decrypt', '--keyring', keyFile, '--in', f('ct'), '--out', f('back')]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/^envelope: ENVELOPE_AUTHENTICATION_FAILED: /m);
    expect((await readdir(work)).sort()).toEqual(['ct', 'pt']);
  });

  it('not a message: explained from the first bytes of the file', async () => {
    const work = await mkdtemp(path.join(dir, 'nam-'));
    const f = (n: string) => path.join(work, n);
    await writeFile(f('junk'), randomBytes(100_000));
    const d = await run(['decrypt', '--keyring', keyFile, '--in', f('junk'), '--out', f('back')]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/^envelope: ENVELOPE_NOT_A_MESSAGE: /m);
    expect((await readdir(work)).sort()).toEqual(['junk']);
  });

  it('a FIFO goes through a stream (a synchronous read would block the event loop)', async () => {
    const work = await mkdtemp(path.join(dir, 'fifo-'));
    const f = (n: string) => path.join(work, n);
    execFileSync('mkfifo', [f('in')]);
    const pt = randomBytes(MiB + 7);
    const p = spawnCli(['encrypt', '--keyring', keyFile, '--in', f('in'), '--out', f('ct')]);
    await p.line(/^envelope: debug: temp /); // the output is open: the input is next
    writeFileSync(f('in'), pt); // opens the FIFO's write end, writes, closes
    const r = await p.exited;
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/debug: pump/);
    expect(Buffer.from((await decrypt(await readFile(f('ct')), { keyring })).plaintext).equals(pt)).toBe(true);
  });

  it('commit writes the whole batch and wipes it (for a decrypt it held plaintext)', async () => {
    const work = await mkdtemp(path.join(dir, 'wipe-'));
    const out = openFileOutput(path.join(work, 'out'));
    const room = out.writer.reserve(1000)!;
    room.buf.fill(0x41, room.offset, room.offset + 1000);
    out.writer.filled(1000);
    out.commit();
    expect((await readFile(path.join(work, 'out'))).equals(Buffer.alloc(1000, 0x41))).toBe(true);
    expect(room.buf.subarray(0, 1000).every((b) => b === 0)).toBe(true);
  });

  it('early writeback: one fdatasync at a time in flight, settled before the file is committed', async () => {
    const work = await mkdtemp(path.join(dir, 'writeback-'));
    const out = openFileOutput(path.join(work, 'out'));
    out.writer.writeBackEarly();
    const data = Buffer.alloc(WRITEBACK_BYTES + FILE_BATCH_BYTES, 0x5c);
    out.writer.put(data.subarray(0, WRITEBACK_BYTES - 1));
    expect(out.writer.writingBack).toBe(false);
    out.writer.put(data.subarray(WRITEBACK_BYTES - 1));
    expect(out.writer.writingBack).toBe(true); // started once WRITEBACK_BYTES were written
    await out.writer.settled();
    expect(out.writer.writingBack).toBe(false);
    out.commit();
    expect((await readFile(path.join(work, 'out'))).equals(data)).toBe(true);
  });

  it('gives the event loop a turn every few MiB (signals are handled there)', async () => {
    const work = await mkdtemp(path.join(dir, 'turn-'));
    const size = 16 * MiB;
    writeFileSync(path.join(work, 'pt'), Buffer.alloc(size, 1));
    const { fd, regular } = openInputFd(path.join(work, 'pt'), false);
    expect(regular).toBe(true);
    const outFd = openSync(path.join(work, 'ct'), 'w', 0o600);
    const writer = new BatchedFdWriter(outFd);
    const enc = new StreamEncryptor({ keyring, frameLength: 65536 });
    writer.put(await enc.start());
    let read = 0;
    let readAtTurn: number | undefined;
    setImmediate(() => (readAtTurn = read));
    try {
      await encryptFile(enc, fd, writer, (n) => (read += n));
    } finally {
      closeSync(fd);
      closeSync(outFd);
    }
    expect(read).toBe(size);
    expect(readAtTurn).toBeGreaterThan(0);
    expect(readAtTurn).toBeLessThan(size);
    const ct = await readFile(path.join(work, 'ct'));
    expect(Buffer.from((await decrypt(ct, { keyring })).plaintext).equals(Buffer.alloc(size, 1))).toBe(true);
  });
});
