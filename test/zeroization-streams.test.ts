/**
 * Zeroization audit (issue #10), streams: Node and web encrypt/decrypt streams wipe the message
 * key at the end, on a tampered frame, when destroyed, cancelled or aborted midway, and when the
 * keyring delivers a key after the stream was destroyed. The capture harness is
 * test/zeroization/capture.ts.
 */
import { captured, captures, cap, describeLive, expectAllWiped, turns } from './zeroization/capture.js';
import { describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptStream, decryptWebStream, encryptStream, encryptWebStream, type Keyring } from '@envelope/core';
import { aes, big, chunks, collectWeb, held, quietEncrypt, sink, throughNode, webSource } from './zeroization/fixtures.js';

describe('Node streams', () => {
  for (const suite of [0x0478, 0x0578]) {
    it(`suite ${suite.toString(16)}: encrypt and decrypt to the end`, async () => {
      const ct = await throughNode(chunks(big, 7000), encryptStream({ keyring: aes, suite, frameLength: 4096 }));
      const out = await throughNode(chunks(ct, 5000), decryptStream({ keyring: aes }));
      expect(out.equals(big)).toBe(true);
      expectAllWiped({ 'derived-key': 2, 'materials-own': 2, 'aes-unwrap': 1, 'commit-key': 1 });
    });
  }

  it('decrypt error mid-stream (a tampered frame) wipes the message key', async () => {
    const ct = Buffer.from(await quietEncrypt(big, { keyring: aes, suite: 0x0478, frameLength: 4096 }));
    ct[ct.byteLength - 30000]! ^= 1;
    await expect(throughNode(chunks(ct, 5000), decryptStream({ keyring: aes }))).rejects.toMatchObject({
      code: 'ENVELOPE_AUTHENTICATION_FAILED',
    });
    expectAllWiped({ 'derived-key': 1, 'materials-own': 1 });
  });

  it('decrypt and encrypt streams destroyed midway wipe the message key', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0578, frameLength: 1024 });
    const d = decryptStream({ keyring: aes, releaseUnverifiedPlaintext: true });
    let first = true;
    await expect(
      pipeline(
        Readable.from(chunks(ct, 2000)),
        d,
        new Writable({
          write(_c, _e, cb) {
            if (first) {
              first = false;
              expect(describeLive(captured('derived-key'))).toHaveLength(1); // live while the stream runs
              d.destroy(new Error('consumer gave up'));
            }
            cb();
          },
        }),
      ),
    ).rejects.toThrow(/consumer gave up/);
    expectAllWiped({ 'derived-key': 1, 'materials-own': 1 });

    cap.log.length = 0;
    const e = encryptStream({ keyring: aes, frameLength: 1024 });
    const src = new Readable({ read() {} });
    const done = pipeline(src, e, sink());
    src.push(big.subarray(0, 5000));
    await captures('derived-key');
    e.destroy(new Error('producer gave up'));
    await expect(done).rejects.toThrow(/producer gave up/);
    expectAllWiped({ 'derived-key': 1, 'materials-own': 1 });
  });

  it('the caller’s AbortSignal midway (encrypt and decrypt)', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0478, frameLength: 1024 });
    const ac = new AbortController();
    const src = new Readable({ read() {} });
    const done = pipeline(src, decryptStream({ keyring: aes, signal: ac.signal }), sink());
    src.push(ct.subarray(0, 3000));
    await captures('derived-key');
    ac.abort();
    await expect(done).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expectAllWiped({ 'derived-key': 1 });

    cap.log.length = 0;
    const ac2 = new AbortController();
    const src2 = new Readable({ read() {} });
    const done2 = pipeline(src2, encryptStream({ keyring: aes, signal: ac2.signal }), sink());
    src2.push(big.subarray(0, 3000));
    await captures('derived-key');
    ac2.abort();
    await expect(done2).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
    expectAllWiped({ 'derived-key': 1 });
  });

  it('destroyed while the keyring is still working: the key it delivers late is wiped', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0478 });
    for (const [make, input] of [
      [(keyring: Keyring) => decryptStream({ keyring }), ct],
      [(keyring: Keyring) => encryptStream({ keyring }), big],
    ] as const) {
      cap.log.length = 0;
      const late = held(aes);
      const t = make(late.keyring);
      const done = pipeline(Readable.from([input]), t, sink());
      await late.entered;
      t.destroy(new Error('gone'));
      await expect(done).rejects.toThrow(/gone/);
      late.release();
      await late.finished;
      await captures('derived-key');
      await turns(2);
      expectAllWiped({ 'materials-own': 1, 'derived-key': 1 });
    }
  });
});

describe('web streams', () => {
  it('encrypt and decrypt to the end', async () => {
    const ct = await collectWeb(
      webSource(chunks(big, 7000)).pipeThrough(encryptWebStream({ keyring: aes, suite: 0x0578, frameLength: 4096 })),
    );
    const out = await collectWeb(webSource(chunks(ct, 3000)).pipeThrough(decryptWebStream({ keyring: aes })));
    expect(out.equals(big)).toBe(true);
    expectAllWiped({ 'derived-key': 2, 'materials-own': 2, 'commit-key': 1 });
  });

  it('decrypt error (a tampered frame)', async () => {
    const ct = Buffer.from(await quietEncrypt(big, { keyring: aes, suite: 0x0478, frameLength: 4096 }));
    ct[ct.byteLength - 20000]! ^= 1;
    await expect(collectWeb(webSource(chunks(ct, 3000)).pipeThrough(decryptWebStream({ keyring: aes })))).rejects.toMatchObject({
      code: 'ENVELOPE_AUTHENTICATION_FAILED',
    });
    expectAllWiped({ 'derived-key': 1 });
  });

  it('the consumer cancels midway, or the producer aborts (decrypt and encrypt)', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0478, frameLength: 1024 });
    // Consumer cancels after the first plaintext.
    const reader = webSource(chunks(ct, 2000))
      .pipeThrough(decryptWebStream({ keyring: aes }))
      .getReader();
    await reader.read();
    expect(describeLive(captured('derived-key'))).toHaveLength(1);
    await reader.cancel('enough');
    expectAllWiped({ 'derived-key': 1 });
    // Producer aborts its writer.
    for (const [make, input] of [
      [() => decryptWebStream({ keyring: aes }), ct.subarray(0, 3000)],
      [() => encryptWebStream({ keyring: aes, frameLength: 1024 }), big.subarray(0, 3000)],
    ] as const) {
      cap.log.length = 0;
      const t = make(); // an encrypt stream starts (gets its key) as soon as it is made
      const w = t.writable.getWriter();
      const r = t.readable.getReader();
      void w.write(input).catch(() => {});
      await r.read();
      await captures('derived-key');
      // The consumer keeps reading (a pending write only completes once its output is taken).
      const drained = (async () => {
        try {
          while (!(await r.read()).done);
        } catch {
          // errored by the abort
        }
      })();
      await w.abort(new Error('producer gone'));
      await drained;
      expectAllWiped({ 'derived-key': 1 });
    }
  });

  it('an encrypt stream that fails in transform (plaintextLengthBound exceeded) wipes its key', async () => {
    const t = encryptWebStream({ keyring: aes, plaintextLengthBound: 100 });
    await expect(collectWeb(webSource([big.subarray(0, 50), big.subarray(0, 500)]).pipeThrough(t))).rejects.toMatchObject({
      code: 'ENVELOPE_LIMIT_EXCEEDED',
    });
    expectAllWiped({ 'derived-key': 1, 'materials-own': 1 });
  });

  it('a stalled source: the caller’s AbortSignal ends the stream and wipes the key (decrypt and encrypt)', async () => {
    const ct = await quietEncrypt(big, { keyring: aes, suite: 0x0478, frameLength: 1024 });
    for (const [make, first] of [
      [(signal: AbortSignal) => decryptWebStream({ keyring: aes, signal }), ct.subarray(0, 3000)],
      [(signal: AbortSignal) => encryptWebStream({ keyring: aes, signal }), big.subarray(0, 3000)],
    ] as const) {
      cap.log.length = 0;
      const ac = new AbortController();
      const stalled = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(first); // then nothing, ever
        },
      });
      const done = collectWeb(stalled.pipeThrough(make(ac.signal)));
      await captures('derived-key');
      // The source never sends more: only the abort can end the stream (a hang fails by the test's timeout).
      ac.abort(new Error('deadline'));
      await expect(done).rejects.toMatchObject({ code: 'ENVELOPE_ABORTED' });
      expectAllWiped({ 'derived-key': 1 });
    }
  });
});
